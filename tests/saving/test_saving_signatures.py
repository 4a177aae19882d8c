"""Optional Ed25519 signatures: ``sign_file`` and ``nnx.load(path, verify=key)``, which refuses
unsigned, wrongly signed and forged-then-re-checksummed files (a checksum alone cannot)."""

from __future__ import annotations

import json

import pytest

import nnx
from nnx.layers import Dense
from nnx.saving import FileFormatError, generate_key_pair, sign_file


@pytest.fixture(scope="module")
def keys():
    return generate_key_pair()


@pytest.fixture
def signed(tmp_path, keys):
    model = nnx.Sequential([Dense(2, input_shape=(3,))], seed=0)
    path = tmp_path / "model.nnx"
    model.save(path)
    sign_file(path, keys[0])
    return path


def test_a_signed_file_loads_with_the_public_key_in_every_form(signed, keys, tmp_path):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pem_path = tmp_path / "public.pem"
    pem_path.write_bytes(keys[1])
    expected = nnx.load(signed).get_weights()
    for key in (keys[1], pem_path, str(pem_path), load_pem_public_key(keys[1]), keys[0]):
        weights = nnx.load(signed, verify=key).get_weights()
        assert all((a == b).all() for a, b in zip(expected, weights, strict=True))


def test_an_unsigned_file_is_refused(signed, keys):
    (signed.parent / "model.nnx.sig").unlink()
    with pytest.raises(FileFormatError, match="is not signed: verify= was given"):
        nnx.load(signed, verify=keys[1])
    nnx.load(signed)  # without verify= the checksum alone is checked


def test_another_key_is_refused(signed):
    _, other_public = generate_key_pair()
    with pytest.raises(FileFormatError, match="does not match its signature"):
        nnx.load(signed, verify=other_public)


def test_a_forged_and_re_checksummed_file_is_refused(signed, keys, forge):
    def edit(header):
        model = json.loads(header["model"])
        model["name"] = "forged"
        header["model"] = json.dumps(model)

    forge.rewrite(signed, signed, edit)  # in place: the old signature stays beside it
    assert nnx.load(signed).name == "forged"  # the checksum is valid: it proves no authorship
    with pytest.raises(FileFormatError, match="changed after signing, or signed with another"):
        nnx.load(signed, verify=keys[1])


@pytest.mark.parametrize("content", [b"", b"nnx-ed25519-v1:zz", b"x" * 200, b"other:" + b"0" * 128])
def test_a_malformed_signature_file_is_refused(signed, keys, content):
    (signed.parent / "model.nnx.sig").write_bytes(content)
    with pytest.raises(FileFormatError, match="signature file"):
        nnx.load(signed, verify=keys[1])


def test_weights_files_are_verified_too(tmp_path, keys):
    model = nnx.Sequential([Dense(2, input_shape=(3,))], seed=0)
    path = tmp_path / "w.nnx"
    model.save_weights(path)
    with pytest.raises(FileFormatError, match="is not signed"):
        model.load_weights(path, verify=keys[1])
    sign_file(path, keys[0])
    model.load_weights(path, verify=keys[1])


def test_a_bad_key_is_a_clear_error(signed):
    with pytest.raises(TypeError, match="Ed25519 public key"):
        nnx.load(signed, verify=42)
    with pytest.raises(ValueError, match="Not an Ed25519 public key in PEM form"):
        nnx.load(signed, verify=b"not a key")
