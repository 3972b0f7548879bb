"""Settings read once from the environment and validated before anything starts.

Every bad value is reported at once (not the first one only), so an operator fixes a deployment in one go.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar, cast
from urllib.parse import urlsplit

from ghostfolio_plaid.errors import ConfigError

if TYPE_CHECKING:  # loaded by cipher() only: ``token`` and ``--help`` need no cryptography
    from ghostfolio_plaid.crypto import TokenCipher

PlaidEnv = Literal["sandbox", "production", "emulator"]
LogFormat = Literal["json", "text"]

PLAID_HOSTS: dict[str, str] = {
    "sandbox": "https://sandbox.plaid.com",
    "production": "https://production.plaid.com",
    "emulator": "http://127.0.0.1:8001",
}
KNOWN_PRODUCTS = frozenset(
    {
        "investments",
        "transactions",
        "auth",
        "identity",
        "assets",
        "liabilities",
        "investments_auth",
    }
)
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ghostfolio_plaid"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    jwt_secret_key: str = field(default="", repr=False)
    enable_feature_plaid: bool = False
    plaid_client_id: str = ""
    plaid_secret: str = field(default="", repr=False)
    plaid_env: PlaidEnv = "sandbox"
    plaid_base_url: str = PLAID_HOSTS["sandbox"]
    plaid_encryption_key: bytes = field(default=b"", repr=False)
    plaid_encryption_old_keys: tuple[bytes, ...] = field(default=(), repr=False)
    plaid_webhook_url: str | None = None
    plaid_country_codes: tuple[str, ...] = ("US",)
    plaid_products: tuple[str, ...] = ("investments",)
    plaid_client_name: str = "Ghostfolio"
    plaid_timeout_seconds: float = 30.0
    enable_graphiql: bool = True
    enable_introspection: bool = True
    auto_migrate: bool = True
    sync_queue_name: str = "ghostfolio-plaid-sync"
    plaid_rate_limits: tuple[tuple[str, int], ...] = ()
    sync_retry_intervals: tuple[int, ...] = (30, 120, 600)
    sync_history_days: int = 730
    sync_overlap_days: int = 30
    sync_schedule: str = "0 3 * * *"
    sync_spread_seconds: int = 3600
    sync_lock_seconds: int = 300
    link_tokens_per_hour: int = 30
    manual_syncs_per_hour: int = 20
    max_body_bytes: int = 1048576
    webhook_max_age_seconds: int = 300
    webhook_max_body_bytes: int = 65536
    log_format: LogFormat | None = None
    """``None`` when LOG_FORMAT is unset: each command picks its own (JSON for services, text for people)."""
    metrics_token: str = field(default="", repr=False)
    ghostfolio_url: str | None = None
    """Set: the connector is on, and ``JWT_SECRET_KEY`` is Ghostfolio's own secret."""
    ghostfolio_data_source: str = "YAHOO"
    ghostfolio_timeout_seconds: float = 30.0
    ghostfolio_import_batch: int = 500
    ghostfolio_retry_max_seconds: int = 600

    def secret_values(self) -> list[str]:
        """Every configured secret as it could appear in text, for log redaction."""
        keys = [k for k in (self.plaid_encryption_key, *self.plaid_encryption_old_keys) if k]
        encoded = [
            form for k in keys for form in (base64.b64encode(k).decode(), base64.urlsafe_b64encode(k).decode(), k.hex())
        ]
        return [value for value in (self.plaid_secret, self.jwt_secret_key, *encoded, self.metrics_token) if value]

    def cipher(self) -> TokenCipher:
        """The access-token cipher: the newest key encrypts, older ones still decrypt."""
        from ghostfolio_plaid.crypto import TokenCipher

        return TokenCipher(self.plaid_encryption_key, *self.plaid_encryption_old_keys)

    def rate_limits_per_minute(self) -> dict[str, int]:
        """Plaid's documented per-client limits, overridden by ``PLAID_RATE_LIMITS`` (0 switches one off)."""
        from ghostfolio_plaid.rate_limit import DEFAULT_PER_MINUTE

        return {**DEFAULT_PER_MINUTE, **dict(self.plaid_rate_limits)}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, require_jwt: bool = True) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); raise ``ConfigError`` listing every problem.

        ``require_jwt`` is off for commands that never see a bearer token (worker, migrate, emulator).
        """
        return _EnvReader(os.environ if env is None else env).settings(require_jwt=require_jwt)


class _EnvReader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def read(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self.env.get(name)
        if raw is None or (raw.strip() == "" and default is not None):
            return default
        try:
            return parse(raw.strip())
        except ValueError as exc:
            self.problems.append(f"{name}: {exc}")
            return default

    def settings(self, *, require_jwt: bool) -> Settings:
        plaid_env: PlaidEnv = self.read("PLAID_ENV", _plaid_env, "sandbox")
        no_keys: tuple[bytes, ...] = ()
        keys = self.read("PLAID_ENCRYPTION_KEY", parse_encryption_keys, no_keys)
        enabled = self.read("ENABLE_FEATURE_PLAID", _boolean, False)
        settings = Settings(
            database_url=self.read("DATABASE_URL", _database_url, DEFAULT_DATABASE_URL),
            redis_url=self.read("REDIS_URL", _redis_url, DEFAULT_REDIS_URL),
            jwt_secret_key=self.read("JWT_SECRET_KEY", _jwt_secret, ""),
            enable_feature_plaid=enabled,
            plaid_client_id=self.read("PLAID_CLIENT_ID", str, ""),
            plaid_secret=self.read("PLAID_SECRET", str, ""),
            plaid_env=plaid_env,
            plaid_base_url=self.read("PLAID_BASE_URL", _http_url, PLAID_HOSTS[plaid_env]),
            plaid_encryption_key=keys[0] if keys else b"",
            plaid_encryption_old_keys=keys[1:],
            plaid_webhook_url=self.read("PLAID_WEBHOOK_URL", _http_url, None),
            plaid_country_codes=self.read("PLAID_COUNTRY_CODES", _country_codes, ("US",)),
            plaid_products=self.read("PLAID_PRODUCTS", _products, ("investments",)),
            plaid_client_name=self.read("PLAID_CLIENT_NAME", _non_empty, "Ghostfolio"),
            plaid_timeout_seconds=self.read("PLAID_TIMEOUT_SECONDS", _positive_float, 30.0),
            enable_graphiql=self.read("ENABLE_GRAPHIQL", _boolean, True),
            enable_introspection=self.read("ENABLE_INTROSPECTION", _boolean, True),
            auto_migrate=self.read("AUTO_MIGRATE", _boolean, True),
            sync_queue_name=self.read("SYNC_QUEUE_NAME", _non_empty, "ghostfolio-plaid-sync"),
            plaid_rate_limits=self.read("PLAID_RATE_LIMITS", _rate_limits, ()),
            sync_retry_intervals=self.read("SYNC_RETRY_INTERVALS", _seconds_list, (30, 120, 600)),
            sync_history_days=self.read("SYNC_HISTORY_DAYS", _whole(1, 730), 730),
            sync_overlap_days=self.read("SYNC_OVERLAP_DAYS", _whole(0, 730), 30),
            sync_schedule=self.read("SYNC_SCHEDULE", _cron, "0 3 * * *"),
            sync_spread_seconds=self.read("SYNC_SPREAD_SECONDS", _whole(0, 86400), 3600),
            sync_lock_seconds=self.read("SYNC_LOCK_SECONDS", _whole(10, 86400), 300),
            link_tokens_per_hour=self.read("LINK_TOKENS_PER_HOUR", _whole(0, 100000), 30),
            manual_syncs_per_hour=self.read("MANUAL_SYNCS_PER_HOUR", _whole(0, 100000), 20),
            max_body_bytes=self.read("MAX_BODY_BYTES", _whole(1024, 104857600), 1048576),
            webhook_max_age_seconds=self.read("WEBHOOK_MAX_AGE_SECONDS", _whole(1, 86400), 300),
            webhook_max_body_bytes=self.read("WEBHOOK_MAX_BODY_BYTES", _whole(1024, 10485760), 65536),
            log_format=self.read("LOG_FORMAT", _log_format, None),
            metrics_token=self.read("METRICS_TOKEN", str, ""),
            ghostfolio_url=self.read("GHOSTFOLIO_URL", _http_url, None),
            ghostfolio_data_source=self.read("GHOSTFOLIO_DATA_SOURCE", _data_source, "YAHOO"),
            ghostfolio_timeout_seconds=self.read("GHOSTFOLIO_TIMEOUT_SECONDS", _positive_float, 30.0),
            ghostfolio_import_batch=self.read("GHOSTFOLIO_IMPORT_BATCH", _whole(1, 10000), 500),
            ghostfolio_retry_max_seconds=self.read("GHOSTFOLIO_RETRY_MAX_SECONDS", _whole(1, 86400), 600),
        )
        if settings.ghostfolio_url and not settings.jwt_secret_key and not require_jwt:
            self.problems.append("JWT_SECRET_KEY: required with GHOSTFOLIO_URL (Ghostfolio's own secret)")
        if require_jwt and not settings.jwt_secret_key:
            self.problems.append("JWT_SECRET_KEY: required (the secret Ghostfolio signs its JWTs with)")
        if enabled:
            for name, value in (
                ("PLAID_CLIENT_ID", settings.plaid_client_id),
                ("PLAID_SECRET", settings.plaid_secret),
                ("PLAID_ENCRYPTION_KEY", settings.plaid_encryption_key),
            ):
                if not value and not any(p.startswith(name + ":") for p in self.problems):
                    self.problems.append(f"{name}: required when ENABLE_FEATURE_PLAID is true")
        if self.problems:
            raise ConfigError(self.problems)
        return settings


def parse_encryption_keys(raw: str) -> tuple[bytes, ...]:
    """One key, or several comma-separated for rotation: the first encrypts, all decrypt."""
    keys = tuple(parse_encryption_key(part) for part in raw.split(",") if part.strip())
    if not keys:
        raise ValueError("must hold at least one key")
    return keys


def parse_encryption_key(raw: str) -> bytes:
    """Accept 32 bytes as 64 hex digits or as base64 (standard or URL-safe alphabet)."""
    text = raw.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        key = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be 32 random bytes as 64 hex digits or base64") from None
    if len(key) != 32:
        raise ValueError(f"must decode to 32 bytes, got {len(key)}")
    return key


def _boolean(raw: str) -> bool:
    word = raw.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _plaid_env(raw: str) -> PlaidEnv:
    if raw in PLAID_HOSTS:
        return cast(PlaidEnv, raw)
    raise ValueError(f"expected sandbox, production or emulator, got {raw!r}")


def _url(raw: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"expected a {' or '.join(schemes)} URL, got {_redact_url(raw)!r}")
    return raw


def _http_url(raw: str) -> str:
    return _url(raw, ("http", "https")).rstrip("/")


def _database_url(raw: str) -> str:
    if raw.startswith("sqlite://"):
        return raw
    return _url(raw, ("postgres", "postgresql", "asyncpg"))


def _redis_url(raw: str) -> str:
    if raw == "memory://":
        return raw
    return _url(raw, ("redis", "rediss"))


def _redact_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.password:
        return raw.replace(parts.password, "***")
    return raw


def _jwt_secret(raw: str) -> str:
    """Any non-empty secret is accepted (Ghostfolio's may be short); 32+ random bytes are advised."""
    if not raw:
        raise ValueError("must not be empty")
    return raw


def _country_codes(raw: str) -> tuple[str, ...]:
    codes = tuple(code.strip().upper() for code in raw.split(",") if code.strip())
    bad = [code for code in codes if len(code) != 2 or not code.isalpha()]
    if not codes or bad:
        raise ValueError(f"expected comma-separated ISO 3166 alpha-2 codes such as US,CA, got {raw!r}")
    return codes


def _products(raw: str) -> tuple[str, ...]:
    products = tuple(p.strip().lower() for p in raw.split(",") if p.strip())
    if "balance" in products:
        raise ValueError(
            "balance is not a Plaid Link product (Plaid answers INVALID_PRODUCT); balances come with every product"
        )
    unknown = sorted(set(products) - KNOWN_PRODUCTS)
    if not products or unknown:
        raise ValueError(f"unknown Plaid products {unknown or [raw]}; known: {sorted(KNOWN_PRODUCTS)}")
    return products


def _log_format(raw: str) -> LogFormat | None:
    if not raw:
        return None
    if raw.lower() in ("json", "text"):
        return cast(LogFormat, raw.lower())
    raise ValueError(f"expected json or text, got {raw!r}")


def _data_source(raw: str) -> str:
    """One of Ghostfolio's data sources (``YAHOO``, ``COINGECKO``, ``EOD_HISTORICAL_DATA``, ...)."""
    if not raw.replace("_", "").isalnum() or not raw.isupper():
        raise ValueError(f"expected a Ghostfolio data source such as YAHOO, got {raw!r}")
    return raw


def _non_empty(raw: str) -> str:
    if not raw:
        raise ValueError("must not be empty")
    return raw


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError(f"must be a positive number of seconds, got {raw!r}")
    return value


def _rate_limits(raw: str) -> tuple[tuple[str, int], ...]:
    limits = []
    for part in raw.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or not name or not value.strip().isdigit():
            raise ValueError(
                f"expected endpoint=calls_per_minute pairs such as investments_holdings_get=2000, got {raw!r}"
            )
        limits.append((name.strip(), int(value)))
    return tuple(limits)


def _seconds_list(raw: str) -> tuple[int, ...]:
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"expected comma-separated whole seconds such as 30,120,600, got {raw!r}")
    return tuple(int(p) for p in parts)


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {raw!r}")
        return int(raw)

    return parse


def _cron(raw: str) -> str:
    from croniter import croniter

    if not croniter.is_valid(raw):
        raise ValueError(f"expected a cron expression such as '0 3 * * *', got {raw!r}")
    return raw
