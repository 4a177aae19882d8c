"""
Title: Character-level text generation with LSTM
Author: fchollet (the keras.io example), run on nnx
Description: keras.io's character-level LSTM tutorial with only the import changed.

The code below is the keras.io example "Character-level text generation with LSTM"
(https://keras.io/examples/generative/lstm_character_level_text_generation/) with two
changes, both marked `# nnx:`:

1. the import: `import keras` / `from keras import layers` become `import nnx as keras` /
   `from nnx import layers`;
2. the text: the tutorial downloads Nietzsche (600,000 characters) with `keras.utils.get_file`;
   this reads text that ships with Python instead (the language reference's help topics,
   `pydoc_data.topics`, cut to 200,000 characters), so it runs offline.

    OMP_NUM_THREADS=1 python examples/keras_char_lstm.py   # ~50 CPU-seconds an epoch, 40 epochs

Everything else (one-hot `bool` arrays, `keras.Input` in a `Sequential`, RMSprop at 0.01,
`categorical_crossentropy` on a softmax, `fit(..., epochs=1)` in a loop, `predict(x_pred,
verbose=0)` and the tutorial's `sample` helper) is the tutorial's own code. As on keras.io,
at least 20 epochs are needed before the text reads locally coherent.
"""

# ruff: noqa: I001, UP031, B007 (the tutorial's own import order, % format and loop variable)
# nnx: was `import keras` and `from keras import layers`
import nnx as keras
from nnx import layers

import numpy as np
import random
import io  # noqa: F401 (the tutorial reads its download with io.open)


def shipped_text(limit=200_000):
    # nnx: stands for `keras.utils.get_file("nietzsche.txt", ...)`: text shipped with Python
    from pydoc_data.topics import topics

    return "\n".join(topics[key] for key in sorted(topics))[:limit]


"""
## Prepare the data
"""

text = shipped_text().lower()  # nnx: was `io.open(path, encoding="utf-8")` of the download
text = text.replace("\n", " ")  # We remove newlines chars for nicer display
print("Corpus length:", len(text))

chars = sorted(list(set(text)))
print("Total chars:", len(chars))
char_indices = dict((c, i) for i, c in enumerate(chars))
indices_char = dict((i, c) for i, c in enumerate(chars))

# cut the text in semi-redundant sequences of maxlen characters
maxlen = 40
step = 3
sentences = []
next_chars = []
for i in range(0, len(text) - maxlen, step):
    sentences.append(text[i : i + maxlen])
    next_chars.append(text[i + maxlen])
print("Number of sequences:", len(sentences))

x = np.zeros((len(sentences), maxlen, len(chars)), dtype="bool")
y = np.zeros((len(sentences), len(chars)), dtype="bool")
for i, sentence in enumerate(sentences):
    for t, char in enumerate(sentence):
        x[i, t, char_indices[char]] = 1
    y[i, char_indices[next_chars[i]]] = 1

"""
## Build the model: a single LSTM layer
"""

model = keras.Sequential(
    [
        keras.Input(shape=(maxlen, len(chars))),
        layers.LSTM(128),
        layers.Dense(len(chars), activation="softmax"),
    ]
)
optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
model.compile(loss="categorical_crossentropy", optimizer=optimizer)

"""
## Prepare the text sampling function
"""


def sample(preds, temperature=1.0):
    # helper function to sample an index from a probability array
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


"""
## Train the model
"""

epochs = 40
batch_size = 128

for epoch in range(epochs):
    model.fit(x, y, batch_size=batch_size, epochs=1)
    print()
    print("Generating text after epoch: %d" % epoch)

    start_index = random.randint(0, len(text) - maxlen - 1)
    for diversity in [0.2, 0.5, 1.0, 1.2]:
        print("...Diversity:", diversity)

        generated = ""
        sentence = text[start_index : start_index + maxlen]
        print('...Generating with seed: "' + sentence + '"')

        for i in range(400):
            x_pred = np.zeros((1, maxlen, len(chars)))
            for t, char in enumerate(sentence):
                x_pred[0, t, char_indices[char]] = 1.0
            preds = model.predict(x_pred, verbose=0)[0]
            next_index = sample(preds, diversity)
            next_char = indices_char[next_index]
            sentence = sentence[1:] + next_char
            generated += next_char

        print("...Generated: ", generated)
        print("-")
