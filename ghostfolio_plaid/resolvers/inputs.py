"""Inputs shared by GraphQL and REST, with the checks both need (the REST layer parses JSON into these)."""

from __future__ import annotations

from dataclasses import dataclass

from ghostfolio_plaid.errors import BadUserInput

MAX_ACCOUNTS = 100
MAX_TEXT = 255


@dataclass(frozen=True)
class LinkedAccountInput:
    id: str
    name: str
    type: str
    subtype: str | None = None
    mask: str | None = None


@dataclass(frozen=True)
class ExchangeInput:
    public_token: str
    institution_id: str
    institution_name: str
    accounts: tuple[LinkedAccountInput, ...]

    def validate(self) -> ExchangeInput:
        _text(self.public_token, "publicToken", limit=1024)
        _text(self.institution_id, "institutionId")
        _text(self.institution_name, "institutionName")
        if len(self.accounts) > MAX_ACCOUNTS:
            raise BadUserInput(f"accounts must list at most {MAX_ACCOUNTS} accounts")
        seen: set[str] = set()
        for index, account in enumerate(self.accounts):
            _text(account.id, f"accounts[{index}].id")
            _text(account.name, f"accounts[{index}].name")
            _text(account.type, f"accounts[{index}].type", limit=64)
            if account.subtype is not None:
                _text(account.subtype, f"accounts[{index}].subtype", limit=64, allow_empty=True)
            if account.mask is not None:
                _text(account.mask, f"accounts[{index}].mask", limit=16, allow_empty=True)
            if account.id in seen:
                raise BadUserInput(f"accounts[{index}].id is listed twice")
            seen.add(account.id)
        return self


def _text(value: object, name: str, *, limit: int = MAX_TEXT, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        raise BadUserInput(f"{name} must be a string")
    if not allow_empty and not value.strip():
        raise BadUserInput(f"{name} must not be empty")
    if len(value) > limit:
        raise BadUserInput(f"{name} must be at most {limit} characters")
