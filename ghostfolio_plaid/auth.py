"""Bearer JWTs in Ghostfolio's shape: HS256 only, user id in the ``id`` claim, ``exp`` required.

The secret is Ghostfolio's own ``JWT_SECRET_KEY``, which may be shorter than RFC 7518 advises; it is accepted
(PyJWT's per-call warning is silenced here) because refusing it would lock out every existing Ghostfolio.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from ghostfolio_plaid.errors import Unauthenticated

ALGORITHM = "HS256"
CLOCK_SKEW_SECONDS = 30
"""Ghostfolio's host and ours may disagree by a few seconds: a token issued "in the future" is still good."""


def user_id_from_authorization(header: str | None, secret: str) -> str:
    if not header:
        raise Unauthenticated("Missing Authorization header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return user_id_from_token(token.strip(), secret)


def user_id_from_token(token: str, secret: str) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "id"]},
                leeway=CLOCK_SKEW_SECONDS,
            )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Token expired") from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("Invalid token") from None
    user_id = claims["id"]
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 255 or not user_id.isprintable():
        raise Unauthenticated("Invalid token: the id claim must be a non-empty printable string")
    return user_id


def issue_token(user_id: str, secret: str, *, lifetime: timedelta = timedelta(days=180)) -> str:
    """Sign a token the way Ghostfolio does, for development and tests."""
    now = datetime.now(UTC)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode({"id": user_id, "iat": now, "exp": now + lifetime}, secret, algorithm=ALGORITHM)
