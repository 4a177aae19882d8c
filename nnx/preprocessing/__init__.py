"""Keras's legacy preprocessing API, for tutorials that still use it.

- :mod:`~nnx.preprocessing.image`: ``ImageDataGenerator`` (random rotations, shifts, zooms and
  flips, rescaling, feature-wise standardisation) and its ``flow``, a
  :class:`~nnx.data.PyDataset` that ``Model.fit`` takes
  (:class:`~nnx.preprocessing.iterator.NumpyArrayIterator`);
- :func:`~nnx.preprocessing.sequence.pad_sequences` (``keras.preprocessing.sequence``; also
  ``nnx.utils.pad_sequences`` as in Keras 3);
- ``timeseries_dataset_from_array`` (tf.keras 2's ``keras.preprocessing`` name for
  :func:`nnx.timeseries.timeseries_dataset_from_array`, also in ``nnx.utils`` as in Keras 3).

For augmentation inside the model (trained on the device with the rest), the layers
:class:`~nnx.layers.RandomFlip`, :class:`~nnx.layers.RandomRotation` and
:class:`~nnx.layers.RandomTranslation` do the same maths (:mod:`nnx.functional.image`).
"""

from nnx.preprocessing import image, iterator, sequence
from nnx.preprocessing.image import ImageDataGenerator
from nnx.preprocessing.iterator import NumpyArrayIterator
from nnx.preprocessing.sequence import pad_sequences
from nnx.timeseries import timeseries_dataset_from_array

__all__ = [
    "ImageDataGenerator",
    "NumpyArrayIterator",
    "image",
    "iterator",
    "pad_sequences",
    "sequence",
    "timeseries_dataset_from_array",
]
