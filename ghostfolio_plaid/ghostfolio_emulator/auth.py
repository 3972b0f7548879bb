"""Ghostfolio's ``AuthGuard('jwt')`` (passport-jwt 4 + jsonwebtoken 9) and its anonymous login.

What passes, as in Ghostfolio 3.58 (``apps/api/src/app/auth/jwt.strategy.ts``): ``Authorization: Bearer <JWT>``
(scheme case-insensitive), signed HS256, HS384 or HS512 with ``JWT_SECRET_KEY``, not expired if it has an
``exp`` (one without ``exp`` is accepted), not before its ``nbf``; the user is loaded by the ``id`` claim.
Anything else, including a well-signed token for an unknown user, is ``401 {"message": "Unauthorized",
"statusCode": 401}``. Ghostfolio signs its own tokens with ``{id, iat, exp}``, valid 180 days.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from ghostfolio_plaid.ghostfolio_emulator.enums import ROLE_PERMISSIONS
from ghostfolio_plaid.ghostfolio_emulator.errors import UNAUTHORIZED, HttpError
from ghostfolio_plaid.ghostfolio_emulator.state import EmulatorState, User

ALGORITHMS = ["HS256", "HS384", "HS512"]  # jsonwebtoken's default for a secret key
TOKEN_LIFETIME = timedelta(days=180)
_AUTH_HEADER = re.compile(r"(\S+)\s+(\S+)")


def _claims(token: str, secret: str) -> dict[str, Any] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=ALGORITHMS,
                # jsonwebtoken checks exp and nbf only; it ignores iat, aud, iss, sub and jti unless asked.
                options={"verify_iat": False, "verify_aud": False, "verify_sub": False, "verify_jti": False},
            )
    except jwt.InvalidTokenError:
        return None
    return claims


def authenticate(state: EmulatorState, authorization: str | None) -> User:
    """The user a request acts as, or a 401 exactly like Ghostfolio's."""
    match = _AUTH_HEADER.search(authorization or "")
    if match is None or match.group(1).lower() != "bearer":
        raise HttpError(401, UNAUTHORIZED)
    claims = _claims(match.group(2), state.config.jwt_secret)
    user_id = claims.get("id") if claims is not None else None
    if not isinstance(user_id, str) or not user_id:
        raise HttpError(401, UNAUTHORIZED)
    with state.lock:
        user = state.users.get(user_id)
        if user is None and state.settings.auto_create_users:
            user = state.create_user(user_id)
    if user is None:
        raise HttpError(401, UNAUTHORIZED)
    return user


def require_permission(user: User, permission: str) -> None:
    """``HasPermissionGuard``: 403 ``{"statusCode": 403, "message": "Forbidden"}``."""
    if permission not in ROLE_PERMISSIONS.get(user.role, frozenset()):
        raise HttpError.plain(403)


def issue_auth_token(user_id: str, secret: str) -> str:
    """A token as Ghostfolio's ``JwtService`` signs it: ``{id, iat, exp}``, HS256, 180 days."""
    now = datetime.now(UTC)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode({"id": user_id, "iat": now, "exp": now + TOKEN_LIFETIME}, secret, algorithm="HS256")
