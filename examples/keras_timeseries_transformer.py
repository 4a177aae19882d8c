"""
Title: Timeseries classification with a Transformer model
Author: Theodoros Ntakouris (the keras.io example), run on nnx
Description: keras.io's Transformer timeseries classifier with only the import, the data and
the sizes changed.

The code below is the keras.io example "Timeseries classification with a Transformer model"
(https://keras.io/examples/timeseries/timeseries_classification_transformer/) with three
changes, each marked `# nnx:`:

1. the import: `from tensorflow import keras` / `from tensorflow.keras import layers` become
   `import nnx as keras` / `from nnx import layers`;
2. the data: the tutorial downloads FordA (3601 + 1320 engine-noise series of 500 steps, labels
   -1/+1); this host is offline, so `generated_series` makes series of the same shape and
   labels: a noisy sine (label -1) or a noisy chirp whose frequency doubles then triples
   (label +1), random frequency and phase, each z-normalised as FordA's are;
3. the sizes: 320 + 200 series and a smaller model (1 block of 2 heads of 16, an MLP of 64,
   15 epochs) train in well under a minute on 2 CPU cores; the tutorial's (4 blocks of 4 heads
   of 256, MLP 128, up to 200 epochs) take hours on a CPU.

    OMP_NUM_THREADS=1 python examples/keras_timeseries_transformer.py

A property of the tutorial's model that runs here as in Keras: its series have one channel,
and `LayerNormalization` over one feature outputs its `beta` (the feature minus its own mean
is 0), so each block returns `inputs + beta1 + beta2` and its attention and convolutions get
no gradient; the Dense head learns from the series itself (`GlobalAveragePooling1D` with
`data_format="channels_first"` averages the single channel, keeping the 500 steps).
"""

# ruff: noqa: E402 (the tutorial's own import order and layout)
import numpy as np


def generated_series(count, length=500, seed=0):
    # nnx: stands for `readucr(root_url + "FordA_TRAIN.tsv")`: x (count, length), y in {-1, 1}
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, length, endpoint=False)
    y = rng.choice([-1, 1], size=count)
    frequency = rng.uniform(4.0, 6.0, size=(count, 1))
    phase = rng.uniform(-0.5, 0.5, size=(count, 1))
    sweep = np.where(y[:, None] == 1, 10.0, 0.0)  # cycles gained over the series
    x = np.sin(2 * np.pi * (frequency * t + sweep * t**2 / 2) + phase)
    x += 0.5 * rng.normal(size=x.shape)
    x = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    return x, y


length = 500  # nnx: FordA's
x_train, y_train = generated_series(320, length, seed=0)  # nnx: FordA has 3601
x_test, y_test = generated_series(200, length, seed=1)  # nnx: FordA has 1320

x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

n_classes = len(np.unique(y_train))

idx = np.random.permutation(len(x_train))
x_train = x_train[idx]
y_train = y_train[idx]

y_train[y_train == -1] = 0
y_test[y_test == -1] = 0

"""
## Build the model
"""

# nnx: was `from tensorflow import keras` and `from tensorflow.keras import layers`
import nnx as keras
from nnx import layers


def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
    # Attention and Normalization
    x = layers.MultiHeadAttention(key_dim=head_size, num_heads=num_heads, dropout=dropout)(
        inputs, inputs
    )
    x = layers.Dropout(dropout)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    res = x + inputs

    # Feed Forward Part
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def build_model(
    input_shape,
    head_size,
    num_heads,
    ff_dim,
    num_transformer_blocks,
    mlp_units,
    dropout=0,
    mlp_dropout=0,
):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(num_transformer_blocks):
        x = transformer_encoder(x, head_size, num_heads, ff_dim, dropout)

    x = layers.GlobalAveragePooling1D(data_format="channels_first")(x)
    for dim in mlp_units:
        x = layers.Dense(dim, activation="relu")(x)
        x = layers.Dropout(mlp_dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


"""
## Train and evaluate
"""

input_shape = x_train.shape[1:]

model = build_model(
    input_shape,
    head_size=16,  # nnx: 256 in the tutorial
    num_heads=2,  # nnx: 4
    ff_dim=4,
    num_transformer_blocks=1,  # nnx: 4
    mlp_units=[64],  # nnx: [128]
    mlp_dropout=0.4,
    dropout=0.25,
)

model.compile(
    loss="sparse_categorical_crossentropy",
    optimizer=keras.optimizers.Adam(learning_rate=1e-4),
    metrics=["sparse_categorical_accuracy"],
)
model.summary()

callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)]

history = model.fit(  # nnx: the tutorial does not keep the History
    x_train,
    y_train,
    validation_split=0.2,
    epochs=15,  # nnx: 200
    batch_size=64,
    callbacks=callbacks,
)

results = model.evaluate(x_test, y_test, verbose=1)  # nnx: the tutorial prints them only
