"""Accounts and their balances (``apps/api/src/app/account/``, ``apps/api/src/app/account-balance/``).

An account has no balance column: its balance is the latest AccountBalance row not dated after today. There
is one row per account and day; recording a day again replaces its value (Ghostfolio's upsert).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ghostfolio_plaid.ghostfolio_emulator.dates import parse_date, start_of_day, utc_now
from ghostfolio_plaid.ghostfolio_emulator.errors import HttpError
from ghostfolio_plaid.ghostfolio_emulator.state import Account, AccountBalance, EmulatorState, User, new_id


def record_balance(state: EmulatorState, account: Account, value: float, day: datetime) -> AccountBalance:
    """``createOrUpdateAccountBalance`` for a day already reset to midnight."""
    for balance in state.balances.values():
        if balance.account_id == account.id and balance.user_id == account.user_id and balance.date == day:
            balance.value = value
            balance.updated_at = utc_now()
            state.portfolio_changed(account.user_id)
            return balance
    balance = AccountBalance(new_id(), account.id, account.user_id, day, value)
    state.balances[balance.id] = balance
    state.portfolio_changed(account.user_id)
    return balance


def create_account(state: EmulatorState, user: User, data: dict[str, Any]) -> Account:
    """POST /api/v1/account with a validated CreateAccountDto.

    A ``platformId`` must name an existing platform and an ``id`` must be new for this user (otherwise the
    database refuses: 500); tags must exist (otherwise 400 "Bad Request"). ``balance`` becomes today's balance.
    """
    account_id = data.get("id") or new_id()
    if state.account(user.id, account_id) is not None:
        raise HttpError.internal()
    platform_id = data.get("platformId")
    if platform_id and platform_id not in state.platforms:
        raise HttpError.internal()
    tag_ids = list(data.get("tags") or [])
    known = {tag.id for tag in state.tags_for(user.id)}
    if any(tag_id not in known for tag_id in tag_ids):
        raise HttpError.plain(400)
    account = Account(
        id=account_id,
        user_id=user.id,
        name=data["name"],
        currency=data["currency"],
        comment=data.get("comment") or None,
        platform_id=platform_id or None,
        tag_ids=tag_ids,
    )
    state.accounts[(user.id, account.id)] = account
    if data.get("balance") is not None:
        record_balance(state, account, float(data["balance"]), start_of_day(utc_now()))
    state.portfolio_changed(user.id)
    return account


def delete_account(state: EmulatorState, user: User, account_id: str) -> Account:
    """DELETE /api/v1/account/:id: 403 if it is not the user's or still has activities; balances go with it."""
    account = state.account(user.id, account_id)
    if account is None or any(a.account_id == account_id and a.user_id == user.id for a in state.activities.values()):
        raise HttpError.plain(403)
    del state.accounts[(user.id, account_id)]
    for balance_id in [b.id for b in state.balances.values() if b.account_id == account_id and b.user_id == user.id]:
        del state.balances[balance_id]
    state.portfolio_changed(user.id)
    return account


def create_balance(state: EmulatorState, user: User, data: dict[str, Any]) -> AccountBalance:
    """POST /api/v1/account-balance with a validated CreateAccountBalanceDto: 403 for an account that is not the
    user's; the date is reset to midnight; a date date-fns cannot read is a database error (500)."""
    account = state.account(user.id, data["accountId"])
    if account is None:
        raise HttpError.plain(403)
    day = parse_date(data["date"])
    if day is None:
        raise HttpError.internal()
    return record_balance(state, account, float(data["balance"]), start_of_day(day))


def delete_balance(state: EmulatorState, user: User, balance_id: str) -> AccountBalance:
    balance = state.balances.get(balance_id)
    if balance is None or balance.user_id != user.id:
        raise HttpError.plain(403)
    del state.balances[balance_id]
    state.portfolio_changed(user.id)
    return balance
