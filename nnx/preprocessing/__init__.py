"""Keras's legacy preprocessing API, for tutorials that still use it.

- :mod:`~nnx.preprocessing.image`: ``ImageDataGenerator`` (random rotations, shifts, zooms and
  flips, rescaling, feature-wise standardisation) and its ``flow``, a
  :class:`~nnx.data.PyDataset` that ``Model.fit`` takes
  (:class:`~nnx.preprocessing.iterator.NumpyArrayIterator`).

For augmentation inside the model (trained on the device with the rest), the layers
:class:`~nnx.layers.RandomFlip`, :class:`~nnx.layers.RandomRotation` and
:class:`~nnx.layers.RandomTranslation` do the same maths (:mod:`nnx.functional.image`).
"""

from nnx.preprocessing import image, iterator
from nnx.preprocessing.image import ImageDataGenerator
from nnx.preprocessing.iterator import NumpyArrayIterator

__all__ = ["ImageDataGenerator", "NumpyArrayIterator", "image", "iterator"]
