"""
Title: Character-level recurrent sequence-to-sequence model
Author: fchollet (the keras.io example), run on nnx
Description: keras.io's character-level LSTM encoder-decoder with only the import and the data
changed.

The code below is the keras.io example "Character-level recurrent sequence-to-sequence model"
(https://keras.io/examples/nlp/lstm_seq2seq/) with these changes, each marked `# nnx:`:

1. the import: `import keras` becomes `import nnx as keras`;
2. the data: the tutorial downloads English-French sentence pairs (`fra-eng.zip`) with
   `keras.utils.get_file`; this runs offline, so its "translation" is generated: numbers
   written in digits (`"4051"`) to the same numbers in English words (`"four thousand fifty
   one"`), one pair per line, tab-separated as in `fra.txt`;
3. the sizes: 3,000 pairs, `latent_dim = 128` and 40 epochs, where the tutorial trains 10,000
   pairs at 256 units for 100 epochs (about two hours of CPU on this code's host kind).

    OMP_NUM_THREADS=1 python examples/keras_lstm_seq2seq.py

Everything else is the tutorial's own code: one-hot `float32` arrays, the encoder's states as
the decoder's `initial_state`, RMSprop, `validation_split`, `model.save` and
`keras.models.load_model`, and the inference models wired from the loaded model's
`model.input`, `model.layers[2].output` and `model.layers[3]` / `[4]` called again on new
`keras.Input`s, decoded greedily one character at a time.
"""

# ruff: noqa: I001, UP015, SIM905, B905, RUF005 (the tutorial's own import order and idioms)
import numpy as np
import nnx as keras  # nnx: was `import keras`
import os
from pathlib import Path

ONES = "zero one two three four five six seven eight nine".split()
TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def words(n):
    """``n`` (0 <= n < 10000) in English words: 4051 -> "four thousand fifty one"."""
    parts = []
    if n >= 1000:
        parts += [ONES[n // 1000], "thousand"]
    if n % 1000 >= 100:
        parts += [ONES[n % 1000 // 100], "hundred"]
    rest = n % 100
    if rest >= 20:
        parts += [TENS[rest // 10]] + ([ONES[rest % 10]] if rest % 10 else [])
    elif rest >= 10:
        parts += [TEENS[rest - 10]]
    elif rest or not parts:
        parts += [ONES[rest]]
    return " ".join(parts)


def write_pairs(path, count=3000, seed=0):
    # nnx: stands for the download of fra-eng.zip: "digits<TAB>words<TAB>source" lines
    numbers = np.random.default_rng(seed).choice(10000, size=count, replace=False)
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(f"{n}\t{words(n)}\tgenerated\n" for n in numbers))


dirpath = Path(os.environ.get("TMPDIR", "/tmp"))  # nnx: was the unzipped download's folder
write_pairs(os.path.join(dirpath, "fra.txt"))

batch_size = 64  # Batch size for training.
epochs = 40  # nnx: was 100. Number of epochs to train for.
latent_dim = 128  # nnx: was 256. Latent dimensionality of the encoding space.
num_samples = 3000  # nnx: was 10000. Number of samples to train on.
# Path to the data txt file on disk.
data_path = os.path.join(dirpath, "fra.txt")

"""
## Prepare the data
"""

# Vectorize the data.
input_texts = []
target_texts = []
input_characters = set()
target_characters = set()
with open(data_path, "r", encoding="utf-8") as f:
    lines = f.read().split("\n")
for line in lines[: min(num_samples, len(lines) - 1)]:
    input_text, target_text, _ = line.split("\t")
    # We use "tab" as the "start sequence" character
    # for the targets, and "\n" as "end sequence" character.
    target_text = "\t" + target_text + "\n"
    input_texts.append(input_text)
    target_texts.append(target_text)
    for char in input_text:
        if char not in input_characters:
            input_characters.add(char)
    for char in target_text:
        if char not in target_characters:
            target_characters.add(char)

input_characters.add(" ")  # nnx: digits have no space; the tutorial pads with " "
input_characters = sorted(list(input_characters))
target_characters = sorted(list(target_characters))
num_encoder_tokens = len(input_characters)
num_decoder_tokens = len(target_characters)
max_encoder_seq_length = max([len(txt) for txt in input_texts])
max_decoder_seq_length = max([len(txt) for txt in target_texts])

print("Number of samples:", len(input_texts))
print("Number of unique input tokens:", num_encoder_tokens)
print("Number of unique output tokens:", num_decoder_tokens)
print("Max sequence length for inputs:", max_encoder_seq_length)
print("Max sequence length for outputs:", max_decoder_seq_length)

input_token_index = dict([(char, i) for i, char in enumerate(input_characters)])
target_token_index = dict([(char, i) for i, char in enumerate(target_characters)])

encoder_input_data = np.zeros(
    (len(input_texts), max_encoder_seq_length, num_encoder_tokens),
    dtype="float32",
)
decoder_input_data = np.zeros(
    (len(input_texts), max_decoder_seq_length, num_decoder_tokens),
    dtype="float32",
)
decoder_target_data = np.zeros(
    (len(input_texts), max_decoder_seq_length, num_decoder_tokens),
    dtype="float32",
)

for i, (input_text, target_text) in enumerate(zip(input_texts, target_texts)):
    for t, char in enumerate(input_text):
        encoder_input_data[i, t, input_token_index[char]] = 1.0
    encoder_input_data[i, t + 1 :, input_token_index[" "]] = 1.0
    for t, char in enumerate(target_text):
        # decoder_target_data is ahead of decoder_input_data by one timestep
        decoder_input_data[i, t, target_token_index[char]] = 1.0
        if t > 0:
            # decoder_target_data will be ahead by one timestep
            # and will not include the start character.
            decoder_target_data[i, t - 1, target_token_index[char]] = 1.0
    decoder_input_data[i, t + 1 :, target_token_index[" "]] = 1.0
    decoder_target_data[i, t:, target_token_index[" "]] = 1.0

"""
## Build the model
"""

# Define an input sequence and process it.
encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
encoder = keras.layers.LSTM(latent_dim, return_state=True)
encoder_outputs, state_h, state_c = encoder(encoder_inputs)

# We discard `encoder_outputs` and only keep the states.
encoder_states = [state_h, state_c]

# Set up the decoder, using `encoder_states` as initial state.
decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))

# We set up our decoder to return full output sequences,
# and to return internal states as well. We don't use the
# return states in the training model, but we will use them in inference.
decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
decoder_outputs = decoder_dense(decoder_outputs)

# Define the model that will turn
# `encoder_input_data` & `decoder_input_data` into `decoder_target_data`
model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)

"""
## Train the model
"""

model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(
    [encoder_input_data, decoder_input_data],
    decoder_target_data,
    batch_size=batch_size,
    epochs=epochs,
    validation_split=0.2,
)
# Save model
model.save(os.path.join(dirpath, "s2s_model.keras"))  # nnx: was "s2s_model.keras" (cwd)

"""
## Run inference (sampling)
"""

# Define sampling models
# Restore the model and construct the encoder and decoder.
model = keras.models.load_model(os.path.join(dirpath, "s2s_model.keras"))  # nnx: see save

encoder_inputs = model.input[0]  # input_1
encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output  # lstm_1
encoder_states = [state_h_enc, state_c_enc]
encoder_model = keras.Model(encoder_inputs, encoder_states)

decoder_inputs = model.input[1]  # input_2
decoder_state_input_h = keras.Input(shape=(latent_dim,))
decoder_state_input_c = keras.Input(shape=(latent_dim,))
decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
decoder_lstm = model.layers[3]
decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(
    decoder_inputs, initial_state=decoder_states_inputs
)
decoder_states = [state_h_dec, state_c_dec]
decoder_dense = model.layers[4]
decoder_outputs = decoder_dense(decoder_outputs)
decoder_model = keras.Model(
    [decoder_inputs] + decoder_states_inputs, [decoder_outputs] + decoder_states
)

# Reverse-lookup token index to decode sequences back to
# something readable.
reverse_input_char_index = dict((i, char) for char, i in input_token_index.items())
reverse_target_char_index = dict((i, char) for char, i in target_token_index.items())


def decode_sequence(input_seq):
    # Encode the input as state vectors.
    states_value = encoder_model.predict(input_seq, verbose=0)

    # Generate empty target sequence of length 1.
    target_seq = np.zeros((1, 1, num_decoder_tokens))
    # Populate the first character of target sequence with the start character.
    target_seq[0, 0, target_token_index["\t"]] = 1.0

    # Sampling loop for a batch of sequences
    # (to simplify, here we assume a batch of size 1).
    stop_condition = False
    decoded_sentence = ""
    while not stop_condition:
        output_tokens, h, c = decoder_model.predict([target_seq] + states_value, verbose=0)

        # Sample a token
        sampled_token_index = np.argmax(output_tokens[0, -1, :])
        sampled_char = reverse_target_char_index[sampled_token_index]
        decoded_sentence += sampled_char

        # Exit condition: either hit max length
        # or find stop character.
        if sampled_char == "\n" or len(decoded_sentence) > max_decoder_seq_length:
            stop_condition = True

        # Update the target sequence (of length 1).
        target_seq = np.zeros((1, 1, num_decoder_tokens))
        target_seq[0, 0, sampled_token_index] = 1.0

        # Update states
        states_value = [h, c]
    return decoded_sentence


"""
You can now generate decoded sentences as such:
"""

for seq_index in range(20):
    # Take one sequence (part of the training set)
    # for trying out decoding.
    input_seq = encoder_input_data[seq_index : seq_index + 1]
    decoded_sentence = decode_sequence(input_seq)
    print("-")
    print("Input sentence:", input_texts[seq_index])
    print("Decoded sentence:", decoded_sentence)
