"""
Title: Text classification with Transformer
Author: Apoorv Nandan (the keras.io example), run on nnx
Description: keras.io's Transformer text classifier, subclassed layers and all, with only the
import changed.

The code below is the keras.io example "Text classification with Transformer"
(https://keras.io/examples/nlp/text_classification_with_transformer/) with two changes, both
marked `# nnx:`:

1. the import: `import keras` / `from keras import ops, layers` become `import nnx as keras` /
   `from nnx import ops, layers`;
2. the data: the tutorial downloads IMDB with `keras.datasets.imdb.load_data`; this generates
   "reviews" offline instead: token sequences whose label says whether most tokens come from
   the lower ("positive") half of the vocabulary, a bag-of-words rule like sentiment.

    OMP_NUM_THREADS=1 python examples/keras_text_classification_transformer.py

Everything else is the tutorial's code: `TransformerBlock` and `TokenAndPositionEmbedding`
are `layers.Layer` subclasses that build sublayers in `__init__` (a nested `keras.Sequential`
among them) and compose them in `call`, with `inputs + attn_output` on symbolic tensors and
`ops.shape` / `ops.arange` for the positions (see "Subclassed layers and models" in the README).
"""

# ruff: noqa: I001 (the tutorial's own import order)
# nnx: was `import keras` and `from keras import ops, layers`
import nnx as keras
from nnx import ops
from nnx import layers

import numpy as np


"""
## Implement a Transformer block as a layer
"""


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [
                layers.Dense(ff_dim, activation="relu"),
                layers.Dense(embed_dim),
            ]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


"""
## Implement embedding layer

Two separate embedding layers, one for tokens, one for token index (positions).
"""


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


"""
## Download and prepare dataset
"""


def generated_reviews(num_words, maxlen, count, seed):
    # nnx: stands for `keras.datasets.imdb.load_data(num_words=vocab_size)` + padding:
    # label 1 when most tokens come from the lower half of the vocabulary
    rng = np.random.default_rng(seed)
    x = rng.integers(1, num_words, size=(count, maxlen))
    y = ((x < num_words // 2).sum(axis=1) > maxlen // 2).astype("int64")
    return x, y


vocab_size = 20000  # Only consider the top 20k words
maxlen = 200  # Only consider the first 200 words of each movie review
reviews = 5000  # nnx: IMDB has 25000 of each
(x_train, y_train) = generated_reviews(vocab_size, maxlen, reviews, seed=0)  # nnx
(x_val, y_val) = generated_reviews(vocab_size, maxlen, reviews, seed=1)  # nnx
print(len(x_train), "Training sequences")
print(len(x_val), "Validation sequences")


"""
## Create classifier model using transformer layer

Transformer layer outputs one vector for each time step of our input sequence.
Here, we take the mean across all time steps and
use a feed forward network on top of it to classify text.
"""

embed_dim = 32  # Embedding size for each token
num_heads = 2  # Number of attention heads
ff_dim = 32  # Hidden layer size in feed forward network inside transformer

inputs = layers.Input(shape=(maxlen,))
embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
x = embedding_layer(inputs)
transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
x = transformer_block(x)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dropout(0.1)(x)
x = layers.Dense(20, activation="relu")(x)
x = layers.Dropout(0.1)(x)
outputs = layers.Dense(2, activation="softmax")(x)

model = keras.Model(inputs=inputs, outputs=outputs)


"""
## Train and Evaluate
"""

model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))
