"""Keras tutorial snippets, run as written with only the import changed (``tensorflow.keras`` ->
``nnx``), each asserting what a Keras user expects. Every snippet runs on each backend through
``nnx.use_backend`` (the snippet itself names none); each starts with Keras's
``set_random_seed``, so it gives the same numbers on every run.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import nnx


@pytest.fixture(autouse=True)
def _on_each_backend(backend):
    with nnx.use_backend(backend.name), nnx.utils.seeded(0):  # undoes set_random_seed
        yield


def _breast_cancer(seed=42):
    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.2, random_state=seed
    )
    scaler = StandardScaler()
    return scaler.fit_transform(X_train), scaler.transform(X_test), y_train, y_test


def test_breast_cancer_walkthrough():
    import nnx as keras  # was: from tensorflow import keras

    keras.utils.set_random_seed(42)

    X_train, X_test, y_train, y_test = _breast_cancer()
    assert y_train.shape == (455,)  # 1-D labels, straight from scikit-learn

    model = keras.Sequential(
        [
            keras.layers.Dense(16, activation="relu", input_shape=(X_train.shape[1],)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(
        X_train, y_train, epochs=50, batch_size=32, validation_data=(X_test, y_test), verbose=0
    )
    loss, accuracy = model.evaluate(X_test, y_test, verbose=0)

    assert loss < 0.2
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 50
    assert accuracy >= 0.95
    predictions = (model.predict(X_test) > 0.5).astype("int32")
    assert predictions.shape == (114, 1)
    assert np.mean(predictions[:, 0] == y_test) == pytest.approx(accuracy)


def test_hello_world_linear_regression():
    from nnx import Sequential  # was: from tensorflow.keras import Sequential
    from nnx.layers import Dense
    from nnx.utils import set_random_seed

    set_random_seed(42)

    model = Sequential([Dense(units=1, input_shape=[1])])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], dtype=float)
    ys = np.array([-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], dtype=float)
    model.fit(xs, ys, epochs=500, verbose=0)

    assert model.predict(np.array([10.0]), verbose=0)[0, 0] == pytest.approx(19.0, abs=0.2)


def test_optimizers_compared_on_one_dimensional_labels():
    import nnx as keras

    keras.utils.set_random_seed(42)

    X_train, X_test, y_train, y_test = _breast_cancer(seed=0)
    results = {}
    for name in ["sgd", "rmsprop", "adam", "adagrad"]:
        model = keras.Sequential(
            [keras.layers.Dense(8, activation="relu", input_shape=(30,)), keras.layers.Dense(1)]
        )
        model.compile(optimizer=name, loss="mse", metrics=["mae"])
        history = model.fit(X_train, y_train, epochs=20, batch_size=32, verbose=0)
        accuracy = np.mean((model.predict(X_test)[:, 0] > 0.5) == y_test)
        results[name] = (history.history["loss"], accuracy)

    for losses, _ in results.values():
        assert losses[-1] < losses[0] / 2
    assert all(results[name][1] > 0.85 for name in ["sgd", "rmsprop", "adam"])


def test_l2_regularized_model_adds_its_penalty_to_the_loss():
    import nnx as keras
    from nnx import regularizers

    keras.utils.set_random_seed(42)

    X_train, X_test, y_train, y_test = _breast_cancer()
    model = keras.Sequential(
        [
            keras.layers.Dense(
                32, activation="relu", kernel_regularizer=regularizers.l2(0.01), input_shape=(30,)
            ),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=10, verbose=0)
    loss, accuracy = model.evaluate(X_test, y_test)

    kernel = model.layers[0].get_weights()[0]
    p = np.clip(model.predict(X_test)[:, 0], 1e-7, 1 - 1e-7)
    bce = -np.mean(y_test * np.log(p) + (1 - y_test) * np.log(1 - p))
    assert loss == pytest.approx(bce + 0.01 * np.sum(kernel**2), rel=1e-3)
    assert accuracy > 0.9


def test_the_32_16_1_summary():
    from nnx.layers import Dense
    from nnx.models import Sequential
    from nnx.utils import set_random_seed

    set_random_seed(42)

    model = Sequential()
    model.add(Dense(32, activation="relu", input_shape=(20,)))
    model.add(Dense(16, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    out = io.StringIO()
    with redirect_stdout(out):
        model.summary()

    assert model.count_params() == 20 * 32 + 32 + 32 * 16 + 16 + 16 + 1
    assert f"{model.count_params():,}" in out.getvalue()
    assert [layer.output_shape for layer in model.layers] == [(32,), (16,), (1,)]


def test_the_cnn_summary():
    import nnx as keras
    from nnx import layers

    keras.utils.set_random_seed(42)

    model = keras.Sequential(
        [
            layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    lines = []
    model.summary(print_fn=lines.append)

    assert model.count_params() == 320 + 18496 + 102464 + 650  # Keras prints 121,930
    assert [layer.output_shape for layer in model.layers[:5]] == [
        (26, 26, 32),
        (13, 13, 32),
        (11, 11, 64),
        (5, 5, 64),
        (1600,),
    ]
    assert any("121,930" in line for line in lines)
    assert model.predict(np.zeros((2, 28, 28, 1)), verbose=0).shape == (2, 10)


def test_compile_with_optimizer_loss_and_metric_objects():
    import nnx as keras

    keras.utils.set_random_seed(42)

    X_train, X_test, y_train, y_test = _breast_cancer()
    model = keras.Sequential(
        [
            keras.layers.Dense(16, activation="relu", input_shape=(30,)),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.BinaryAccuracy(), keras.metrics.AUC()],
    )
    history = model.fit(X_train, y_train, epochs=10, batch_size=32, verbose=0)
    results = model.evaluate(X_test, y_test, return_dict=True)

    assert model.metrics_names == ["loss", "binary_accuracy", "auc"]
    assert list(history.history) == model.metrics_names
    assert results["binary_accuracy"] > 0.93 and results["auc"] > 0.97
    assert model.optimizer.learning_rate == pytest.approx(0.01)


def test_l1_l2_dropout_and_early_stopping_on_validation_data():
    import nnx as keras
    from nnx.callbacks import EarlyStopping

    keras.utils.set_random_seed(42)

    X_train, X_test, y_train, y_test = _breast_cancer()
    model = keras.Sequential(
        [
            keras.layers.Dense(
                64,
                activation="relu",
                input_shape=(30,),
                kernel_regularizer=keras.regularizers.l1_l2(l1=1e-5, l2=1e-4),
            ),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    early_stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = model.fit(
        X_train,
        y_train,
        validation_split=0.2,
        epochs=200,
        batch_size=32,
        callbacks=[early_stop],
        verbose=0,
    )

    assert len(history.history["val_loss"]) < 200  # stopped early
    best = min(history.history["val_loss"])
    val = model.evaluate(X_train[-91:], y_train[-91:], return_dict=True)
    assert val["loss"] == pytest.approx(best, rel=1e-4)  # the best weights came back
    assert model.evaluate(X_test, y_test, return_dict=True)["accuracy"] > 0.93


def _digits():
    digits = load_digits()
    x = digits.images[..., None].astype("float32")  # (1797, 8, 8, 1), pixels 0..16
    return train_test_split(x, digits.target, test_size=0.25, random_state=0)


def test_image_data_generator_fed_to_fit():
    import nnx as keras
    from nnx.preprocessing.image import ImageDataGenerator

    keras.utils.set_random_seed(42)

    x_train, x_test, y_train, y_test = _digits()
    datagen = ImageDataGenerator(
        rotation_range=10,
        width_shift_range=0.1,
        height_shift_range=0.1,
        zoom_range=0.1,
        featurewise_center=True,
        featurewise_std_normalization=True,
        rescale=1.0 / 16,
    )
    datagen.fit(x_train)
    model = keras.Sequential(
        [
            keras.layers.Flatten(input_shape=(8, 8, 1)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(datagen.flow(x_train, y_train, batch_size=64, seed=0), epochs=6, verbose=0)
    test_gen = ImageDataGenerator(
        featurewise_center=True, featurewise_std_normalization=True, rescale=1.0 / 16
    )
    test_gen.fit(x_train)
    _, accuracy = model.evaluate(test_gen.flow(x_test, y_test, shuffle=False), verbose=0)

    assert len(history.history["accuracy"]) == 6
    assert history.history["accuracy"][-1] > history.history["accuracy"][0]
    assert accuracy > 0.9


def test_a_keras_3_py_dataset():
    import math

    from nnx.utils import set_random_seed

    set_random_seed(42)

    import nnx as keras

    class CIFAR10PyDataset(keras.utils.PyDataset):  # the Keras guide's pattern, on digits
        def __init__(self, x_set, y_set, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y = x_set, y_set
            self.batch_size = batch_size

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, idx):
            low = idx * self.batch_size
            high = min(low + self.batch_size, len(self.x))
            return self.x[low:high] / 16.0, self.y[low:high]

    x_train, x_test, y_train, y_test = _digits()
    train = CIFAR10PyDataset(x_train.reshape(-1, 64), y_train, batch_size=32, workers=2)
    model = keras.Sequential(
        [
            keras.layers.Dense(32, activation="relu", input_shape=(64,)),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, epochs=15, validation_data=(x_test.reshape(-1, 64) / 16, y_test))

    assert history.history["val_accuracy"][-1] > 0.9
    assert model.predict(train).shape == (len(x_train), 10)


def test_a_python_generator_with_steps_per_epoch():
    import nnx as keras

    keras.utils.set_random_seed(42)

    X_train, X_test, y_train, y_test = _breast_cancer()

    def batch_generator(X, y, batch_size=32):
        while True:
            idx = np.random.default_rng(0).permutation(len(X))
            for i in range(0, len(X) - batch_size + 1, batch_size):
                yield X[idx[i : i + batch_size]], y[idx[i : i + batch_size]]

    model = keras.Sequential(
        [
            keras.layers.Dense(16, activation="relu", input_shape=(30,)),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(
        batch_generator(X_train, y_train),
        steps_per_epoch=len(X_train) // 32,
        epochs=10,
        validation_data=batch_generator(X_test, y_test),
        validation_steps=3,
        verbose=0,
    )

    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert model.evaluate(X_test, y_test, return_dict=True)["accuracy"] > 0.93


def test_freezing_a_trained_base_for_fine_tuning():
    import nnx as keras

    keras.utils.set_random_seed(42)

    x, y = load_iris(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    base = keras.layers.Dense(16, activation="relu", input_shape=(4,), name="base")
    model = keras.Sequential([base, keras.layers.Dense(3, activation="softmax", name="head")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=50, batch_size=16, verbose=0)

    base.trainable = False
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    frozen = model.get_layer("base").get_weights()
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)

    for before, after in zip(frozen, base.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert len(model.trainable_parameters()) == 2
    assert model.evaluate(x, y, return_dict=True)["accuracy"] > 0.85


def test_a_custom_callback_stops_training_and_lowers_the_learning_rate():
    import nnx as keras

    keras.utils.set_random_seed(42)

    class StopAt95(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.optimizer.learning_rate = self.model.optimizer.learning_rate * 0.9
            if logs.get("accuracy") > 0.95:
                self.model.stop_training = True

    X_train, _, y_train, _ = _breast_cancer()
    model = keras.Sequential(
        [
            keras.layers.Dense(16, activation="relu", input_shape=(30,)),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(X_train, y_train, epochs=100, callbacks=[StopAt95()], verbose=0)

    epochs = len(history.epoch)
    assert epochs < 100 and history.history["accuracy"][-1] > 0.95
    assert model.optimizer.learning_rate == pytest.approx(0.01 * 0.9**epochs)


def test_multiclass_with_integer_labels_and_predict_argmax():
    import nnx as keras
    from nnx.utils import to_categorical

    keras.utils.set_random_seed(42)

    x, y = load_iris(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=1)
    model = keras.Sequential(
        [
            keras.layers.Dense(10, activation="relu", input_shape=(4,)),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, to_categorical(y_train), epochs=60, batch_size=8, verbose=0)
    predicted = np.argmax(model.predict(x_test, batch_size=16, verbose=0), axis=1)

    assert predicted.shape == y_test.shape
    assert np.mean(predicted == y_test) > 0.9
