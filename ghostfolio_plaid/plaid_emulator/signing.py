"""Webhook signing exactly as Plaid does it: an ES256 JWT over the SHA-256 of the raw body."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


class WebhookSigner:
    def __init__(self, pem: bytes | None = None, kid: str | None = None, created_at: int | None = None) -> None:
        loaded = serialization.load_pem_private_key(pem, password=None) if pem else None
        self._key = (
            loaded if isinstance(loaded, ec.EllipticCurvePrivateKey) else ec.generate_private_key(ec.SECP256R1())
        )
        self.kid = kid or str(uuid.uuid4())
        self.created_at = created_at or int(time.time())

    def pem(self) -> bytes:
        """The private key, for an emulator that keeps its state across restarts (the demo)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def sign(self, body: bytes, *, issued_at: int | None = None) -> str:
        claims = {
            "iat": int(time.time()) if issued_at is None else issued_at,
            "request_body_sha256": hashlib.sha256(body).hexdigest(),
        }
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.kid, "typ": "JWT"})

    def jwk(self) -> dict[str, Any]:
        """The public key as Plaid's ``JWKPublicKey`` (a JWK plus ``created_at`` and ``expired_at``)."""
        public: dict[str, Any] = ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {
            "alg": "ES256",
            "crv": public["crv"],
            "kid": self.kid,
            "kty": public["kty"],
            "use": "sig",
            "x": public["x"],
            "y": public["y"],
            "created_at": self.created_at,
            "expired_at": None,
        }
