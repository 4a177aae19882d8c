"""
Title: Image classification from scratch
Author: fchollet (the keras.io example), run on nnx
Description: keras.io's small Xception-like network (separable convolutions, residual blocks)
with only the import and the data changed.

The code below is the keras.io example "Image classification from scratch"
(https://keras.io/examples/vision/image_classification_from_scratch/) with these changes, each
marked `# nnx:`:

1. the import: `import keras` becomes `import nnx as keras` (and `from keras import layers`
   `from nnx import layers`); no TensorFlow;
2. the data: the tutorial downloads the Kaggle Cats vs Dogs photographs (786 MB, offline here)
   and reads them with `keras.utils.image_dataset_from_directory`; this script generates
   two-class 24x24 RGB pictures in [0, 255] instead: "cats" carry a disc, "dogs" a ring, at
   random places, sizes and colours, on noisy backgrounds (`ImageBatches`, a
   `keras.utils.PyDataset` with the two `tf.data` methods the tutorial calls, `map` and
   `prefetch`); the plots of the data and the `plot_model` call are left out;
3. the sizes: `image_size = (24, 24)` (was 180x180), 2,048 training and 256 validation
   pictures, batch 16 (was 128), 5 epochs (was 25), and the model's widths divided by 8
   (`WIDTH = 8`: 16, [32, 64, 91], 128 where the tutorial has 128, [256, 512, 728], 1024).
   Small batches give BatchNormalization's moving statistics (momentum 0.99) the ~500 steps
   they need to settle; with fewer, validation sits at chance while training accuracy is
   already near 1 (as it would in Keras). About 60 s on two busy CPU cores (validation
   accuracy 0.49 for 3 epochs, then 0.98 and 1.00):

    OMP_NUM_THREADS=1 python examples/keras_image_classification_from_scratch.py

Everything else is the tutorial's own code: `data_augmentation` (RandomFlip("horizontal"),
RandomRotation(0.1)) mapped over the training batches, `make_model` with Rescaling, Conv2D,
BatchNormalization, the residual blocks of SeparableConv2D + MaxPooling2D(3, strides=2,
padding="same") around a strided 1x1 Conv2D and `layers.add`, GlobalAveragePooling2D,
Dropout and a logit Dense; Adam(3e-4), BinaryCrossentropy(from_logits=True),
BinaryAccuracy(name="acc"), a ModelCheckpoint per epoch, and a prediction on a new picture.
"""

# ruff: noqa: I001, SIM108, RUF005 (the tutorial's own import order and idioms)
import os
import numpy as np
import nnx as keras  # nnx: was `import keras`
from nnx import layers  # nnx: was `from keras import layers`

WIDTH = 8  # nnx: the tutorial's widths are divided by this (1: the tutorial's own model)

"""
## Generate the data (nnx: stands for the Cats vs Dogs download)
"""


def draw_pictures(count, size, seed):
    # nnx: class 0 ("cat"): a filled disc; class 1 ("dog"): a ring; both on a noisy background
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    labels = rng.integers(0, 2, size=count)
    images = rng.uniform(0, 90, size=(count, size, size, 3))
    for i, label in enumerate(labels):
        cy, cx = rng.uniform(0.3 * size, 0.7 * size, size=2)
        radius = rng.uniform(0.18 * size, 0.3 * size)
        distance = np.hypot(yy - cy, xx - cx)
        shape = distance < radius
        if label == 1:
            shape &= distance > 0.55 * radius
        images[i][shape] = rng.uniform(140, 255, size=3)
    return images.astype("float32"), labels.astype("float32")


class ImageBatches(keras.utils.PyDataset):
    # nnx: the batches of images and labels that `image_dataset_from_directory` gives,
    # with the `tf.data.Dataset` methods the tutorial calls
    def __init__(self, images, labels, batch_size, transform=None):
        super().__init__()
        self.images, self.labels = images, labels
        self.batch_size, self.transform = batch_size, transform

    def __len__(self):
        return -(-len(self.images) // self.batch_size)

    def __getitem__(self, index):
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        img, label = self.images[batch], self.labels[batch]
        return self.transform(img, label) if self.transform else (img, label)

    def map(self, fn, num_parallel_calls=None):
        return ImageBatches(self.images, self.labels, self.batch_size, fn)

    def prefetch(self, buffer_size):
        return self


image_size = (24, 24)  # nnx: was (180, 180)
batch_size = 16  # nnx: was 128
num_train, num_val = 2048, 256  # nnx: the generated set's size
x_train, y_train = draw_pictures(num_train, image_size[0], seed=1337)
x_val, y_val = draw_pictures(num_val, image_size[0], seed=1338)
train_ds = ImageBatches(x_train, y_train, batch_size)  # nnx: was image_dataset_from_directory
val_ds = ImageBatches(x_val, y_val, batch_size)
AUTOTUNE = None  # nnx: was `tf_data.AUTOTUNE`

"""
## Using image data augmentation
"""

data_augmentation_layers = [
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
]


def data_augmentation(images):
    for layer in data_augmentation_layers:
        images = layer(images)
    return images


"""
## Configure the dataset for performance
"""

# Apply `data_augmentation` to the training images.
train_ds = train_ds.map(
    lambda img, label: (data_augmentation(img), label),
    num_parallel_calls=AUTOTUNE,  # nnx: was tf_data.AUTOTUNE
)
# Prefetching samples in GPU memory helps maximize GPU utilization.
train_ds = train_ds.prefetch(AUTOTUNE)  # nnx: was tf_data.AUTOTUNE
val_ds = val_ds.prefetch(AUTOTUNE)  # nnx: was tf_data.AUTOTUNE

"""
## Build a model
"""


def make_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)

    # Entry block
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(128 // WIDTH, 3, strides=2, padding="same")(x)  # nnx: // WIDTH
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    previous_block_activation = x  # Set aside residual

    for size in [256 // WIDTH, 512 // WIDTH, 728 // WIDTH]:  # nnx: // WIDTH
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

        # Project residual
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    x = layers.SeparableConv2D(1024 // WIDTH, 3, padding="same")(x)  # nnx: // WIDTH
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    x = layers.GlobalAveragePooling2D()(x)
    if num_classes == 2:
        units = 1
    else:
        units = num_classes

    x = layers.Dropout(0.25)(x)
    # We specify activation=None so as to return logits
    outputs = layers.Dense(units, activation=None)(x)
    return keras.Model(inputs, outputs)


model = make_model(input_shape=image_size + (3,), num_classes=2)
# nnx: `keras.utils.plot_model(model, show_shapes=True)` left out; the summary instead
model.summary()

"""
## Train the model
"""

epochs = 5  # nnx: was 25

checkpoints = os.environ.get("TMPDIR", "/tmp")  # nnx: the tutorial saves in the working folder
callbacks = [
    keras.callbacks.ModelCheckpoint(os.path.join(checkpoints, "save_at_{epoch}.keras")),
]
model.compile(
    optimizer=keras.optimizers.Adam(3e-4),
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy(name="acc")],
)
history = model.fit(  # nnx: `history =` kept for the test
    train_ds,
    epochs=epochs,
    callbacks=callbacks,
    validation_data=val_ds,
)

"""
## Run inference on new data
"""

img_array, _ = draw_pictures(1, image_size[0], seed=7)  # nnx: was keras.utils.load_img(...)
img_array = img_array[0]  # nnx: `keras.utils.img_to_array(img)` gives one (h, w, 3) image
img_array = keras.ops.expand_dims(img_array, 0)  # Create batch axis

predictions = model.predict(img_array)
score = float(keras.ops.sigmoid(predictions[0][0]))
print(f"This image is {100 * (1 - score):.2f}% cat and {100 * score:.2f}% dog.")
