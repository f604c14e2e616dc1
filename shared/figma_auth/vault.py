"""KMS envelope encryption for Figma grants.

Each connection's grant is sealed with AES-256-GCM under a data key from ``GenerateDataKey``,
bound by a KMS encryption context (purpose, Figma user id): a ciphertext copied into another
user's row fails to decrypt. Decrypted data keys are cached in memory for a bounded time
and count so a warm session read costs no KMS call.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from figma_auth.errors import GrantUnreadable

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

PURPOSE = "figma-grant"


@dataclass(frozen=True)
class SealedBox:
    """What is stored: the KMS-encrypted data key, a nonce and the AES-GCM ciphertext."""

    encrypted_key: bytes
    nonce: bytes
    ciphertext: bytes


def grant_context(user_id: str) -> dict[str, str]:
    """The encryption context of a connection's grant: nothing secret, everything that
    identifies its row (a box copied into another user's connection fails to open)."""
    return {"purpose": PURPOSE, "user_id": user_id}


class DataKeyCache:
    """A thread-safe LRU of plaintext data keys, bounded in count and age."""

    def __init__(self, *, max_entries: int = 1024, max_age_seconds: float = 300.0) -> None:
        self.max_entries = max_entries
        self.max_age = max_age_seconds
        self._items: OrderedDict[tuple[bytes, str], tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[bytes, str]) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            stored_at, value = item
            if time.monotonic() - stored_at > self.max_age:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: tuple[bytes, str], value: bytes) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


class Vault:
    """Seals and opens grant plaintexts under one KMS key. ``kms`` provides the client when KMS is
    first called (a data key cached, or a function that never opens a grant, never makes one)."""

    def __init__(self, *, kms: Callable[[], KMSClient], key_id: str, cache: DataKeyCache | None = None) -> None:
        self._kms = kms
        self.key_id = key_id
        self.cache = cache if cache is not None else DataKeyCache()

    @property
    def kms(self) -> KMSClient:
        return self._kms()

    def seal(self, plaintext: dict[str, Any], context: dict[str, str]) -> SealedBox:
        """Encrypt under a fresh data key (one KMS GenerateDataKey call)."""
        answer = self.kms.generate_data_key(KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=context)
        key, encrypted_key = answer["Plaintext"], answer["CiphertextBlob"]
        self.cache.put((encrypted_key, _canonical(context)), key)
        return self._encrypt(key, encrypted_key, plaintext, context)

    def reseal(self, previous: SealedBox, plaintext: dict[str, Any], context: dict[str, str]) -> SealedBox:
        """Encrypt under the previous box's data key (no KMS call when that key is cached)."""
        key = self._data_key(previous.encrypted_key, context)
        return self._encrypt(key, previous.encrypted_key, plaintext, context)

    def open(self, box: SealedBox, context: dict[str, str]) -> dict[str, Any]:
        """Decrypt; any mismatch of context, key or ciphertext fails closed (GrantUnreadable)."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key = self._data_key(box.encrypted_key, context)
        try:
            data = AESGCM(key).decrypt(box.nonce, box.ciphertext, _canonical(context).encode())
            value = json.loads(data)
        except (InvalidTag, ValueError) as exc:
            raise GrantUnreadable() from exc
        if not isinstance(value, dict):
            raise GrantUnreadable()
        return value

    def _data_key(self, encrypted_key: bytes, context: dict[str, str]) -> bytes:
        cache_key = (encrypted_key, _canonical(context))
        key = self.cache.get(cache_key)
        if key is not None:
            return key
        try:
            answer = self.kms.decrypt(CiphertextBlob=encrypted_key, EncryptionContext=context, KeyId=self.key_id)
        except self.kms.exceptions.InvalidCiphertextException as exc:
            raise GrantUnreadable() from exc
        key = answer["Plaintext"]
        self.cache.put(cache_key, key)
        return key

    @staticmethod
    def _encrypt(key: bytes, encrypted_key: bytes, plaintext: dict[str, Any], context: dict[str, str]) -> SealedBox:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        data = json.dumps(plaintext, separators=(",", ":")).encode()
        return SealedBox(encrypted_key, nonce, AESGCM(key).encrypt(nonce, data, _canonical(context).encode()))


def _canonical(context: dict[str, str]) -> str:
    return json.dumps(context, sort_keys=True, separators=(",", ":"))


# -- sealing under a secret the caller holds (token mode's ticket) ------------------------------


def _secret_key(secret: str, purpose: bytes) -> bytes:
    """A 256-bit AES key from a high-entropy secret (HKDF-SHA256, the purpose as info)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"figma-auth:" + purpose).derive(secret.encode())


def seal_with_secret(secret: str, plaintext: bytes, *, purpose: bytes) -> bytes:
    """``plaintext`` readable only by whoever holds ``secret`` (which we store only hashed)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return nonce + AESGCM(_secret_key(secret, purpose)).encrypt(nonce, plaintext, purpose)


def open_with_secret(secret: str, sealed: bytes, *, purpose: bytes) -> bytes | None:
    """What ``seal_with_secret`` sealed, or None for a wrong secret, purpose or a tampered box."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(_secret_key(secret, purpose)).decrypt(sealed[:12], sealed[12:], purpose)
    except (InvalidTag, ValueError):
        return None
