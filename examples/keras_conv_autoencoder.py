"""
Title: Convolutional autoencoder for image denoising
Author: Santiago L. Valdarrama (the keras.io example), run on nnx
Description: keras.io's convolutional autoencoder (Conv2D encoder, Conv2DTranspose decoder)
with only the import and the data changed.

The code below is the keras.io example "Convolutional autoencoder for image denoising"
(https://keras.io/examples/vision/autoencoder/) with these changes, each marked `# nnx:`:

1. the imports: `from keras import layers` / `from keras.models import Model` become
   `from nnx import layers` / `from nnx.models import Model`, and `import tensorflow as tf`
   (unused by the tutorial) is gone;
2. the data: `keras.datasets.mnist` downloads MNIST; this host is offline, so `mnist` here is
   a stand-in whose `load_data()` gives scikit-learn's 8x8 digits (1,797 images, shipped with
   scikit-learn) upscaled 3x (each pixel a 3x3 block) and padded by 2 to MNIST's 28x28 uint8
   format: 1,500 training and 297 test images instead of 60,000 and 10,000;
3. the epochs: 6 and 12 instead of 50 and 100 (the set is 40 times smaller): 139 CPU-seconds
   in all (2-core AMD EPYC, OpenBLAS; 340 s of wall time there under a shared load of 6-9):

    OMP_NUM_THREADS=2 python examples/keras_conv_autoencoder.py

It ends at validation binary cross-entropy 0.214 (reconstruction) and 0.210 (denoising), where
the mean training image scores 0.305 and a perfect copy 0.149 (the pixels are not all 0 or 1).

`display` shows its figures with `plt.show()` as in the tutorial (with a non-interactive
matplotlib backend, e.g. `MPLBACKEND=Agg`, nothing is shown). Everything else is the
tutorial's own code: the functional `Model(input, x)`, `MaxPooling2D((2, 2),
padding="same")`, `Conv2DTranspose(32, (3, 3), strides=2, activation="relu",
padding="same")`, Adam with binary cross-entropy, `fit(x, x, shuffle=True,
validation_data=...)`, then the denoising fit from noisy inputs to clean targets.
"""

# ruff: noqa: I001, B905 (the tutorial's own import order and zip)
import numpy as np
import matplotlib.pyplot as plt

from nnx import layers  # nnx: was `from keras import layers`
from nnx.models import Model  # nnx: was `from keras.models import Model`


class mnist:  # noqa: N801 - nnx: stands for `from keras.datasets import mnist` (offline)
    """scikit-learn's 8x8 digits in MNIST's format: uint8 28x28 images, labels, split."""

    @staticmethod
    def load_data(train=1500):
        from nnx.datasets import load_digits

        images, labels = (np.asarray(a) for a in load_digits())
        images = np.kron(images.reshape(-1, 8, 8), np.ones((3, 3)))  # 24x24
        images = np.pad(images, ((0, 0), (2, 2), (2, 2)))  # 28x28, MNIST's margin
        images = np.round(images * (255.0 / 16.0)).astype("uint8")
        return (images[:train], labels[:train]), (images[train:], labels[train:])


def preprocess(array):
    """Normalizes the supplied array and reshapes it."""
    array = array.astype("float32") / 255.0
    array = np.reshape(array, (len(array), 28, 28, 1))
    return array


def noise(array):
    """Adds random noise to each image in the supplied array."""
    noise_factor = 0.4
    noisy_array = array + noise_factor * np.random.normal(loc=0.0, scale=1.0, size=array.shape)
    return np.clip(noisy_array, 0.0, 1.0)


def display(array1, array2):
    """Displays ten random images from each array."""
    n = 10
    indices = np.random.randint(len(array1), size=n)
    images1 = array1[indices, :]
    images2 = array2[indices, :]

    plt.figure(figsize=(20, 4))
    for i, (image1, image2) in enumerate(zip(images1, images2)):
        ax = plt.subplot(2, n, i + 1)
        plt.imshow(image1.reshape(28, 28))
        plt.gray()
        ax.get_xaxis().set_visible(False)
        ax.get_yaxis().set_visible(False)

        ax = plt.subplot(2, n, i + 1 + n)
        plt.imshow(image2.reshape(28, 28))
        plt.gray()
        ax.get_xaxis().set_visible(False)
        ax.get_yaxis().set_visible(False)

    plt.show()


"""
## Prepare the data
"""

# Since we only need images from the dataset to encode and decode, we
# won't use the labels.
(train_data, _), (test_data, _) = mnist.load_data()

# Normalize and reshape the data
train_data = preprocess(train_data)
test_data = preprocess(test_data)

# Create a copy of the data with added noise
noisy_train_data = noise(train_data)
noisy_test_data = noise(test_data)

# Display the train data and a version of it with added noise
display(train_data, noisy_train_data)

"""
## Build the autoencoder

We are going to use the Functional API to build our convolutional autoencoder.
"""

input = layers.Input(shape=(28, 28, 1))

# Encoder
x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(input)
x = layers.MaxPooling2D((2, 2), padding="same")(x)
x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
x = layers.MaxPooling2D((2, 2), padding="same")(x)

# Decoder
x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

# Autoencoder
autoencoder = Model(input, x)
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.summary()

"""
Now we can train our autoencoder using `train_data` as both our input data
and target. Notice we are setting up the validation data using the same
format.
"""

autoencoder.fit(
    x=train_data,
    y=train_data,
    epochs=6,  # nnx: was 50 (a 40 times smaller set)
    batch_size=128,
    shuffle=True,
    validation_data=(test_data, test_data),
)

"""
Let's predict on our test dataset and display the original image together with
the prediction from our autoencoder.
"""

predictions = autoencoder.predict(test_data)
display(test_data, predictions)

"""
Now that we know that our autoencoder works, let's retrain it using the noisy
data as our input and the clean data as our target. We want our autoencoder to
learn how to remove the noise from the images.
"""

autoencoder.fit(
    x=noisy_train_data,
    y=train_data,
    epochs=12,  # nnx: was 100 (a 40 times smaller set)
    batch_size=128,
    shuffle=True,
    validation_data=(noisy_test_data, test_data),
)

"""
Let's now predict on the noisy data and display the results of our autoencoder.
"""

predictions = autoencoder.predict(noisy_test_data)
display(noisy_test_data, predictions)
