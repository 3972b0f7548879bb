"""Encryption of Plaid access tokens at rest.

AES-256-GCM with a fresh 96-bit nonce per value and the owning row's id as associated data, so a ciphertext
copied onto another row does not decrypt. The stored form names the key it was made with
(``v1.<key id>.<base64 nonce+ciphertext>``) so that keys can be rotated without guessing.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ghostfolio_plaid.errors import ServiceError

_VERSION = "v1"
_NONCE_BYTES = 12


class DecryptionError(ServiceError):
    """The stored token cannot be decrypted with any known key (wrong key, wrong row, or tampered)."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"ghostfolio-plaid key id:" + key).hexdigest()[:12]


class TokenCipher:
    """Encrypts with the first (newest) key; decrypts with whichever key a value names, for rotation."""

    def __init__(self, key: bytes, *older: bytes) -> None:
        if any(len(k) != 32 for k in (key, *older)):
            raise ValueError("AES-256-GCM needs 32-byte keys")
        self._keys = {key_id(k): AESGCM(k) for k in (*older, key)}
        self._key_id = key_id(key)
        self._aead = self._keys[self._key_id]

    @property
    def current_key_id(self) -> str:
        return self._key_id

    def needs_rotation(self, stored: str) -> bool:
        return not stored.startswith(f"{_VERSION}.{self._key_id}.")

    def encrypt(self, plaintext: str, *, row_id: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), row_id.encode())
        return f"{_VERSION}.{self._key_id}.{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, *, row_id: str) -> str:
        try:
            version, stored_key_id, payload = stored.split(".", 2)
            blob = base64.b64decode(payload, validate=True)
        except ValueError:
            raise DecryptionError("stored access token is not in a known format") from None
        aead = self._keys.get(stored_key_id)
        if version != _VERSION or aead is None:
            raise DecryptionError("stored access token was encrypted with an unknown key")
        try:
            return aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], row_id.encode()).decode()
        except InvalidTag:
            raise DecryptionError("stored access token failed authentication") from None
