"""``keras.preprocessing.sequence``'s name for :func:`nnx.utils.pad_sequences` (Keras's
``pad_sequences``: token lists of unequal lengths to one ``(n, maxlen)`` array, padded and
truncated before or after).

>>> pad_sequences([[1], [2, 3], [4, 5, 6]]).tolist()
[[0, 0, 1], [0, 2, 3], [4, 5, 6]]
>>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2, padding="post").tolist()
[[1, 0], [2, 3], [5, 6]]
"""

from nnx.utils import pad_sequences

__all__ = ["pad_sequences"]
