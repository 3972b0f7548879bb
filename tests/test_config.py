import base64
import os

import pytest

from ghostfolio_plaid.config import Settings, parse_encryption_key
from ghostfolio_plaid.errors import ConfigError

KEY = os.urandom(32)
BASE = {"JWT_SECRET_KEY": "a-long-enough-secret"}


def test_defaults_are_sandbox_investments_us() -> None:
    settings = Settings.from_env(BASE)
    assert settings.plaid_env == "sandbox"
    assert settings.plaid_base_url == "https://sandbox.plaid.com"
    assert settings.plaid_products == ("investments",)
    assert settings.plaid_country_codes == ("US",)
    assert settings.enable_feature_plaid is False


def test_base_url_overrides_the_environment_host() -> None:
    settings = Settings.from_env({**BASE, "PLAID_ENV": "production", "PLAID_BASE_URL": "http://127.0.0.1:9999/"})
    assert settings.plaid_base_url == "http://127.0.0.1:9999"


@pytest.mark.parametrize("encoded", [KEY.hex(), base64.b64encode(KEY).decode(), base64.urlsafe_b64encode(KEY).decode()])
def test_encryption_key_accepts_hex_and_base64(encoded: str) -> None:
    assert parse_encryption_key(encoded) == KEY


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {
                "JWT_SECRET_KEY": "",
                "ENABLE_FEATURE_PLAID": "maybe",
                "PLAID_ENV": "staging",
                "PLAID_ENCRYPTION_KEY": base64.b64encode(os.urandom(16)).decode(),
                "PLAID_COUNTRY_CODES": "USA",
                "PLAID_PRODUCTS": "investments,telepathy",
                "DATABASE_URL": "mysql://x@y/z",
                "REDIS_URL": "http://localhost",
                "PLAID_WEBHOOK_URL": "not a url",
            }
        )
    text = str(caught.value)
    for name in (
        "JWT_SECRET_KEY",
        "ENABLE_FEATURE_PLAID",
        "PLAID_ENV",
        "PLAID_ENCRYPTION_KEY: must decode to 32 bytes, got 16",
        "PLAID_COUNTRY_CODES",
        "PLAID_PRODUCTS",
        "DATABASE_URL",
        "REDIS_URL",
        "PLAID_WEBHOOK_URL",
    ):
        assert name in text


def test_enabled_feature_requires_plaid_credentials_and_key() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**BASE, "ENABLE_FEATURE_PLAID": "true"})
    assert {p.split(":")[0] for p in caught.value.problems} == {
        "PLAID_CLIENT_ID",
        "PLAID_SECRET",
        "PLAID_ENCRYPTION_KEY",
    }


def test_secrets_stay_out_of_repr() -> None:
    settings = Settings.from_env({**BASE, "PLAID_SECRET": "top-secret-value", "PLAID_ENCRYPTION_KEY": KEY.hex()})
    assert "top-secret-value" not in repr(settings)
    assert "a-long-enough-secret" not in repr(settings)


@pytest.mark.parametrize("products", ["balance", "investments,balance"])
def test_balance_is_refused_as_a_plaid_product(products: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**BASE, "PLAID_PRODUCTS": products})
    (problem,) = caught.value.problems
    assert problem.startswith("PLAID_PRODUCTS: balance is not a Plaid Link product")
