"""Sealing under a caller-held secret (token mode's ticket): only that secret and purpose open it."""

from __future__ import annotations

from figma_auth.vault import open_with_secret, seal_with_secret

SECRET = "Xq3v9LwzT0kYb2hR8sNf1cJ4mPa7GdUe"


def test_what_is_sealed_opens_with_the_same_secret_and_purpose() -> None:
    box = seal_with_secret(SECRET, b"session-token", purpose=b"ticket")
    assert open_with_secret(SECRET, box, purpose=b"ticket") == b"session-token"


def test_another_secret_another_purpose_or_a_flipped_bit_opens_nothing() -> None:
    box = seal_with_secret(SECRET, b"session-token", purpose=b"ticket")
    tampered = box[:-1] + bytes([box[-1] ^ 1])
    assert open_with_secret(SECRET[:-1] + "x", box, purpose=b"ticket") is None
    assert open_with_secret(SECRET, box, purpose=b"device") is None
    assert open_with_secret(SECRET, tampered, purpose=b"ticket") is None
    assert open_with_secret(SECRET, b"short", purpose=b"ticket") is None


def test_two_seals_of_the_same_value_differ() -> None:
    assert seal_with_secret(SECRET, b"v", purpose=b"ticket") != seal_with_secret(SECRET, b"v", purpose=b"ticket")
