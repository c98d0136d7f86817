"""Barocert's field encryption and token hashes, pinned to the protocol note's vectors."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from kakaocert_async.barocert import DecryptionError, hash_file, hash_text
from kakaocert_async.barocert._crypto import IV_SIZE, TAG_SIZE, Cipher

# The public test key of the official examples, and the note's vector (IV = bytes 0..11).
NOTE_KEY = base64.b64decode("SwWxqU+0TErBXy/9TVjIPEnI0VTUMMSQZtJf3Ed8q3I=")
NOTE_IV = bytes(range(12))
NOTE_CIPHERTEXT = "AAECAwQFBgcICQoLsMuSnLPy0gkMtJqiZlgb7CcdygsOPxL9YocV"


def test_the_notes_known_answer() -> None:
    assert Cipher(NOTE_KEY).encrypt("01012341234", iv=NOTE_IV) == NOTE_CIPHERTEXT
    assert Cipher(NOTE_KEY).decrypt(NOTE_CIPHERTEXT) == "01012341234"


def test_the_layout_is_iv_ciphertext_tag_in_padded_base64() -> None:
    text = "홍길동"
    sealed = base64.b64decode(Cipher(NOTE_KEY).encrypt(text, iv=NOTE_IV), validate=True)
    assert sealed[:IV_SIZE] == NOTE_IV
    assert len(sealed) == IV_SIZE + len(text.encode("utf-8")) + TAG_SIZE


def test_every_encryption_has_a_fresh_iv() -> None:
    cipher = Cipher(NOTE_KEY)
    values = {cipher.encrypt("01012341234") for _ in range(50)}
    assert len(values) == 50
    ivs = {base64.b64decode(value)[:IV_SIZE] for value in values}
    assert len(ivs) == 50
    assert {cipher.decrypt(value) for value in values} == {"01012341234"}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("01012341234", "not base64"),
        ("홍길동", "not base64"),
        ("19900108", "too short"),
        (base64.b64encode(bytes(40)).decode(), "tag does not match"),
        (Cipher(bytes(32)).encrypt("01012341234"), "tag does not match"),
    ],
)
def test_what_is_not_a_ciphertext_of_this_key_is_refused(value: str, says: str) -> None:
    with pytest.raises(DecryptionError, match=says) as refused:
        Cipher(NOTE_KEY).decrypt(value)
    assert "01012341234" not in str(refused.value)


def test_an_altered_ciphertext_is_refused() -> None:
    sealed = bytearray(base64.b64decode(NOTE_CIPHERTEXT))
    sealed[IV_SIZE] ^= 1
    with pytest.raises(DecryptionError):
        Cipher(NOTE_KEY).decrypt(base64.b64encode(sealed).decode())


@pytest.mark.parametrize("size", [0, 16, 24, 31, 33, 45])
def test_the_key_is_32_bytes(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Cipher(bytes(size))


def test_the_iv_is_12_bytes_and_the_key_never_shows() -> None:
    with pytest.raises(ValueError, match="12 bytes"):
        Cipher(NOTE_KEY).encrypt("x", iv=bytes(16))
    assert repr(Cipher(NOTE_KEY)) == "<Cipher AES-256-GCM>"


def test_the_official_sdk_reads_ours_and_we_read_its() -> None:
    base = pytest.importorskip("barocert.base", reason="the official barocert SDK")
    secret_key = base64.b64encode(NOTE_KEY).decode()
    theirs = base.Utils.AES256GCM("전자서명 원문", secret_key)
    assert Cipher(NOTE_KEY).decrypt(theirs) == "전자서명 원문"
    ours = Cipher(NOTE_KEY).encrypt("19900108")
    from Crypto.Cipher import AES  # pycryptodome, the official SDK's dependency

    raw = base64.b64decode(ours)
    aes = AES.new(NOTE_KEY, AES.MODE_GCM, raw[:IV_SIZE])
    assert aes.decrypt_and_verify(raw[IV_SIZE:-TAG_SIZE], raw[-TAG_SIZE:]) == b"19900108"


# Hashes of TokenType.HASH tokens ---------------------------------------------------


def test_the_hash_of_a_text() -> None:
    assert hash_text("abc") == "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"  # the note's
    digest = hash_text("계약서 본문")
    assert len(digest) == 43
    assert "=" not in digest
    assert set(digest) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_the_hash_of_a_file_from_bytes_a_path_or_a_binary_file(tmp_path: Path) -> None:
    document = tmp_path / "contract.pdf"
    content = b"%PDF-1.7\n" + bytes(range(256)) * 5000  # over one read chunk
    document.write_bytes(content)
    expected = hash_file(content)
    assert hash_file(document) == expected
    assert hash_file(str(document)) == expected
    with document.open("rb") as stream:
        assert hash_file(stream) == expected
    assert hash_file(io.BytesIO(content)) == expected
    assert hash_file(b"abc") == hash_text("abc")


def test_hashes_take_the_right_kind_of_input(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="hash_file"):
        hash_text(b"abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hash_file(123)  # type: ignore[arg-type]
    text_file = tmp_path / "a.txt"
    text_file.write_text("abc")
    with text_file.open("r") as stream, pytest.raises(TypeError, match="binary"):
        hash_file(stream)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        hash_file(tmp_path / "missing.pdf")
