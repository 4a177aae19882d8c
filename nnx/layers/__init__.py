"""Layers. Each has ``build``, ``forward(x, training) -> (y, backprop)`` and ``__call__``.

``Parameter`` (a weight with its gradient) lives in :mod:`nnx.layers.parameter`, the ``Layer``
contract and the registry in :mod:`nnx.layers.base`, and each family of layers in its own file.

>>> from nnx.layers import Dense, layer_class
>>> layer_class("Dense") is Dense
True
"""

from nnx.layers.activation import ActivatedLayer, Activation
from nnx.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from nnx.layers.additive_attention import AdditiveAttention
from nnx.layers.attention import MultiHeadAttention
from nnx.layers.augmentation import GaussianNoise, RandomFlip, RandomRotation, RandomTranslation
from nnx.layers.base import Layer, layer_class, layer_names, register_layer
from nnx.layers.batch_normalization import BatchNormalization
from nnx.layers.conv import Conv1D, Conv2D
from nnx.layers.conv_transpose import Conv1DTranspose, Conv2DTranspose
from nnx.layers.cropping import Cropping2D
from nnx.layers.dense import Dense
from nnx.layers.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from nnx.layers.dot import Dot, dot
from nnx.layers.dot_attention import Attention
from nnx.layers.dropout import Dropout
from nnx.layers.elementwise import Identity, Rescaling
from nnx.layers.embedding import Embedding
from nnx.layers.global_pooling import (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
)
from nnx.layers.gru import GRU
from nnx.layers.lambda_layer import Lambda
from nnx.layers.lookup import IntegerLookup, StringLookup
from nnx.layers.lstm import LSTM
from nnx.layers.masking import Masking
from nnx.layers.merge import (
    Add,
    Average,
    Concatenate,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    multiply,
    subtract,
)
from nnx.layers.merge_extrema import Maximum, Minimum, maximum, minimum
from nnx.layers.normalization import LayerNormalization
from nnx.layers.padding import ZeroPadding2D
from nnx.layers.parameter import Parameter
from nnx.layers.pooling import AveragePooling1D, AveragePooling2D, MaxPooling1D, MaxPooling2D
from nnx.layers.positional import PositionalEmbedding, SinusoidalPositionalEncoding
from nnx.layers.preprocessing_numeric import CategoryEncoding, Discretization, Normalization
from nnx.layers.random_layer import RandomLayer
from nnx.layers.reshaping import Flatten, Input, RepeatVector, Reshape
from nnx.layers.rnn import RNN
from nnx.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from nnx.layers.separable_conv import SeparableConv1D, SeparableConv2D
from nnx.layers.sequence_shaping import Cropping1D, Permute, UpSampling1D, ZeroPadding1D
from nnx.layers.simple_rnn import SimpleRNN
from nnx.layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D
from nnx.layers.tensor_ops import TensorOp
from nnx.layers.text_vectorization import TextVectorization
from nnx.layers.transformer import TransformerEncoder
from nnx.layers.upsampling import UpSampling2D
from nnx.layers.wrappers import Bidirectional, TimeDistributed

__all__ = [
    "ELU",
    "Identity",
    "LeakyReLU",
    "PReLU",
    "ReLU",
    "Rescaling",
    "Softmax",
    "Add",
    "Average",
    "Concatenate",
    "Multiply",
    "Dot",
    "Maximum",
    "Minimum",
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Masking",
    "MultiHeadAttention",
    "Attention",
    "AdditiveAttention",
    "ActivatedLayer",
    "Activation",
    "BatchNormalization",
    "Bidirectional",
    "Conv1D",
    "Conv2D",
    "Cropping2D",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Dense",
    "Dropout",
    "Embedding",
    "GRU",
    "LSTM",
    "PositionalEmbedding",
    "SimpleRNN",
    "RNN",
    "SimpleRNNCell",
    "LSTMCell",
    "GRUCell",
    "StackedRNNCells",
    "SinusoidalPositionalEncoding",
    "Flatten",
    "Input",
    "Layer",
    "LayerNormalization",
    "Parameter",
    "GaussianNoise",
    "RandomFlip",
    "RandomLayer",
    "RandomRotation",
    "RandomTranslation",
    "RepeatVector",
    "Reshape",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "Cropping1D",
    "Permute",
    "UpSampling1D",
    "ZeroPadding1D",
    "TensorOp",
    "Lambda",
    "Subtract",
    "TextVectorization",
    "StringLookup",
    "IntegerLookup",
    "CategoryEncoding",
    "Discretization",
    "Normalization",
    "TimeDistributed",
    "TransformerEncoder",
    "UpSampling2D",
    "ZeroPadding2D",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
    "layer_class",
    "layer_names",
    "register_layer",
]
