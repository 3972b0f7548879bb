"""Every error the service raises on purpose, in one place.

``DomainError`` subclasses carry the GraphQL ``extensions.code`` the API promises; the REST layer turns that
code into an HTTP status with one table, so a resolver never needs to know which transport called it.

    ServiceError
    ├── ConfigError                 bad environment at start-up
    ├── DomainError                 answered to the caller
    │   ├── Unauthenticated         UNAUTHENTICATED
    │   ├── Forbidden               FORBIDDEN
    │   ├── FeatureDisabled         FEATURE_DISABLED
    │   ├── NotFound                NOT_FOUND
    │   ├── Conflict                CONFLICT
    │   ├── BadUserInput            BAD_USER_INPUT
    │   ├── RateLimited             RATE_LIMITED (carries retryAfter, in seconds)
    │   ├── PlaidError              PLAID_ERROR (carries Plaid's error_code)
    │   ├── Unavailable             UNAVAILABLE (a dependency such as Redis is down)
    │   └── GhostfolioRejected      GHOSTFOLIO_ERROR (Ghostfolio refused what the connector asked of it)
    ├── GhostfolioError             the Ghostfolio connector could not deliver
    │   ├── GhostfolioUnavailable   down, 5xx, 429 or a timeout: retried with backoff
    │   └── GhostfolioRefused       a 4xx refusal (validation): recorded on the item, never retried as is
    └── PlaidApiError               Plaid answered with an error object
        └── PlaidUnavailable        Plaid could not be reached or timed out
            └── PlaidBadResponse    Plaid answered 200 with a body we cannot trust (shape, incomplete read)
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """Root of the service's own exceptions."""


class ConfigError(ServiceError):
    """Raised at start-up with one line per invalid environment variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class DomainError(ServiceError):
    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class FeatureDisabled(DomainError):
    code = "FEATURE_DISABLED"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class PlaidError(DomainError):
    code = "PLAID_ERROR"


class Unavailable(DomainError):
    code = "UNAVAILABLE"


class GhostfolioRejected(DomainError):
    code = "GHOSTFOLIO_ERROR"


class PlaidApiError(ServiceError):
    """An error object answered by Plaid; never carries the access token that caused it."""

    def __init__(
        self,
        *,
        status: int,
        error_type: str,
        error_code: str,
        error_message: str,
        display_message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"Plaid {error_type}/{error_code}: {error_message}")
        self.status = status
        self.error_type = error_type
        self.error_code = error_code
        self.error_message = error_message
        self.display_message = display_message
        self.request_id = request_id


class PlaidUnavailable(PlaidApiError):
    """Plaid did not answer in time or the connection failed: worth a retry, not the user's fault."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            status=503,
            error_type="API_ERROR",
            error_code="PLAID_UNAVAILABLE",
            error_message=reason,
        )


class PlaidBadResponse(PlaidUnavailable):
    """Plaid answered, but not with what its API promises: a field of the wrong type, a missing key, pages
    that do not add up to the total. Retryable like an outage (Plaid's next answer is usually right), and
    never acted upon: a sync that meets one writes nothing."""

    def __init__(self, reason: str, *, error_code: str = "PLAID_BAD_RESPONSE") -> None:
        PlaidApiError.__init__(self, status=502, error_type="API_ERROR", error_code=error_code, error_message=reason)


class GhostfolioError(ServiceError):
    """Talking to Ghostfolio failed; never carries the token the service signed for the call."""


class GhostfolioUnavailable(GhostfolioError):
    """Ghostfolio did not answer usefully (connection, timeout, 5xx, 429): the same call may succeed later.
    ``status`` is Ghostfolio's HTTP status when it answered at all."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GhostfolioRefused(GhostfolioError):
    """Ghostfolio answered 4xx: the request itself is wrong for this instance (validation, unknown symbol)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Ghostfolio answered {status}: {message}")
        self.status = status
        self.message = message
