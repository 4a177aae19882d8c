"""
Title: Timeseries anomaly detection using an Autoencoder
Author: pavithrasv (the keras.io example), run on nnx
Description: keras.io's Conv1D / Conv1DTranspose autoencoder that flags an anomaly in a
timeseries, with only the import and the data changed.

The code below is the keras.io example "Timeseries anomaly detection using an Autoencoder"
(https://keras.io/examples/timeseries/timeseries_anomaly_detection/) with these changes, each
marked `# nnx:`:

1. the import: `import keras` / `from keras import layers` become `import nnx as keras` /
   `from nnx import layers`;
2. the data: the tutorial downloads two series of the Numenta Anomaly Benchmark with pandas
   (`art_daily_small_noise.csv`, `art_daily_jumpsup.csv`: 14 days at 5-minute steps, a daily
   pattern with noise, the second with one day's jump). This host is offline and has no pandas,
   so `read_series` generates the same kind of series as NumPy arrays of shape `(4032, 1)`
   (a daily bump, noise, and in the test series a jump up on day 11), and the few pandas
   calls become their NumPy equal (`.mean()` / `.std()` / `.values` / `.iloc`, plots of the
   arrays).

    OMP_NUM_THREADS=2 python examples/keras_timeseries_anomaly.py

Everything else is the tutorial's own code: windows of 288 steps, `Conv1D(32, 7, strides=2,
padding="same")`, `Dropout`, `Conv1DTranspose(16 / 32 / 1, 7, strides=2, padding="same")`,
Adam at 0.001 on MSE, `fit(..., validation_split=0.1, callbacks=[EarlyStopping(...)])`, the
largest training MAE as the threshold, and the run of windows over it marking anomalous steps.
"""

# ruff: noqa: I001, UP034 (the tutorial's own import order and parentheses)
import numpy as np
import nnx as keras  # nnx: was `import keras`
from nnx import layers  # nnx: was `from keras import layers`
from matplotlib import pyplot as plt


def read_series(jump=False, seed=0):
    """nnx: stands for `pd.read_csv(url, parse_dates=True, index_col="timestamp")` of NAB's
    art_daily_small_noise / art_daily_jumpsup: 14 days of 288 five-minute steps."""
    rng = np.random.default_rng(seed)
    t = np.arange(14 * 288)
    phase = (t % 288) / 288.0
    value = 20.0 + 60.0 * np.exp(-(((phase - 0.55) / 0.12) ** 2)) + rng.normal(0, 2.0, t.size)
    if jump:
        day = (t >= 11 * 288 - 30) & (t < 12 * 288 - 130)
        value = np.where(day, value + 80.0 * np.exp(-(((phase - 0.5) / 0.2) ** 2)) + 10, value)
    return value.reshape(-1, 1)


df_small_noise = read_series()
df_daily_jumpsup = read_series(jump=True, seed=1)

"""
## Prepare training data
"""

# Normalize and save the mean and std we get,
# for normalizing test data.
training_mean = df_small_noise.mean()
training_std = df_small_noise.std()
df_training_value = (df_small_noise - training_mean) / training_std
print("Number of training samples:", len(df_training_value))

TIME_STEPS = 288


# Generated training sequences for use in the model.
def create_sequences(values, time_steps=TIME_STEPS):
    output = []
    for i in range(len(values) - time_steps + 1):
        output.append(values[i : (i + time_steps)])
    return np.stack(output)


x_train = create_sequences(df_training_value)  # nnx: was `df_training_value.values`
print("Training input shape: ", x_train.shape)

"""
## Build a model
"""

model = keras.Sequential(
    [
        layers.Input(shape=(x_train.shape[1], x_train.shape[2])),
        layers.Conv1D(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Dropout(rate=0.2),
        layers.Conv1D(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Conv1DTranspose(
            filters=16, kernel_size=7, padding="same", strides=2, activation="relu"
        ),
        layers.Dropout(rate=0.2),
        layers.Conv1DTranspose(
            filters=32, kernel_size=7, padding="same", strides=2, activation="relu"
        ),
        layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
model.summary()

"""
## Train the model
"""

history = model.fit(
    x_train,
    x_train,
    epochs=50,
    batch_size=128,
    validation_split=0.1,
    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, mode="min")],
)

"""
## Detecting anomalies
"""

# Get train MAE loss.
x_train_pred = model.predict(x_train)
train_mae_loss = np.mean(np.abs(x_train_pred - x_train), axis=1)

plt.hist(train_mae_loss, bins=50)
plt.xlabel("Train MAE loss")
plt.ylabel("No of samples")
plt.show()

# Get reconstruction loss threshold.
threshold = np.max(train_mae_loss)
print("Reconstruction error threshold: ", threshold)

"""
### Prepare test data
"""

df_test_value = (df_daily_jumpsup - training_mean) / training_std

# Create sequences from test values.
x_test = create_sequences(df_test_value)  # nnx: was `df_test_value.values`
print("Test input shape: ", x_test.shape)

# Get test MAE loss.
x_test_pred = model.predict(x_test)
test_mae_loss = np.mean(np.abs(x_test_pred - x_test), axis=1)
test_mae_loss = test_mae_loss.reshape((-1))

# Detect all the samples which are anomalies.
anomalies = test_mae_loss > threshold
print("Number of anomaly samples: ", np.sum(anomalies))
print("Indices of anomaly samples: ", np.where(anomalies))

"""
## Plot anomalies
"""

# data i is an anomaly if samples [(i - timesteps + 1) to (i)] are anomalies
anomalous_data_indices = []
for data_idx in range(TIME_STEPS - 1, len(df_test_value) - TIME_STEPS + 1):
    if np.all(anomalies[data_idx - TIME_STEPS + 1 : data_idx]):
        anomalous_data_indices.append(data_idx)

df_subset = df_daily_jumpsup[anomalous_data_indices]  # nnx: was `.iloc[...]`
fig, ax = plt.subplots()
ax.plot(df_daily_jumpsup)  # nnx: was `df_daily_jumpsup.plot(legend=False, ax=ax)`
ax.plot(anomalous_data_indices, df_subset, color="r")  # nnx: was `df_subset.plot(...)`
plt.show()
