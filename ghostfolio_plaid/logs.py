"""Logs as JSON lines (for collectors) or text (for people), with request and item ids, and secrets redacted
by construction.

Redaction happens where log records are made (a record factory), not in one handler: whatever logs and
wherever it goes, a Plaid access or public token, a bearer JWT, or a configured secret never reaches it.
It keeps each record's shape (``msg`` a format string, ``args`` a tuple or mapping of the same length), because
formatters such as uvicorn's access formatter unpack ``args``; a record is changed only when it holds a secret.

This module is imported by every command before it parses its arguments: it loads nothing but the standard
library.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any, Literal

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
item_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("item_id", default=None)

TOKEN_PATTERNS = (
    re.compile(r"\b(access|public|link)-(sandbox|development|production)-[0-9a-f-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
)
REDACTED = "[REDACTED]"
EXTRA_FIELDS = ("request_id", "item_id", "method", "route", "status", "duration_ms")
"""Fields callers attach with ``extra=``; they are set after the record factory runs, so formatters redact them."""
PLAIN_VALUES = (int, float, type(None))
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    for pattern in TOKEN_PATTERNS:
        text = pattern.sub(REDACTED, text)
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return text


def install_redaction(secrets: Iterable[str] = ()) -> None:
    """Redact every record this process makes from now on; ``secrets`` are literal values to hide too."""
    global _installed
    _secrets.update(s for s in secrets if len(s) >= 8)
    if _installed:
        return
    _installed = True
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        redact_record(record)
        record.request_id = request_id_var.get()
        record.item_id = item_id_var.get()
        return record

    logging.setLogRecordFactory(factory)


def redact_record(record: logging.LogRecord) -> None:
    """Hide secrets in ``record`` in place, keeping ``args`` a tuple or mapping of the same shape if possible."""
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    message = _message_of(record)
    if message is None:  # arguments that do not fit the format: keep what can be shown, safely
        record.msg, record.args = redact(str(record.msg)), ()
        return
    if redact(message) == message:
        return
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
        record.args = _redacted_args(record.args)
        rebuilt = _message_of(record)
        if rebuilt is not None and redact(rebuilt) == rebuilt:
            return
    record.msg, record.args = redact(message), ()  # a secret split across arguments: give up the shape


def _message_of(record: logging.LogRecord) -> str | None:
    try:
        return record.getMessage()
    except (TypeError, ValueError, KeyError):
        return None


def _redacted_args(args: Any) -> Any:
    if isinstance(args, tuple):
        return tuple(_redacted_value(value) for value in args)
    if isinstance(args, Mapping):
        return {key: _redacted_value(value) for key, value in args.items()}
    return args


def _redacted_value(value: Any) -> Any:
    """Strings redacted, numbers kept (``%d`` still works), anything else replaced by its redacted text if needed."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, PLAIN_VALUES):
        return value
    text, shown = str(value), repr(value)
    return value if redact(text) == text and redact(shown) == shown else redact(text)


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    found = {name: getattr(record, name, None) for name in EXTRA_FIELDS}
    return {
        name: redact(value) if isinstance(value, str) else value for name, value in found.items() if value is not None
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log collectors parse without rules."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
            **_extras(record),
        }
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value ...``: for a person reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{name}={value}" for name, value in _extras(record).items())
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        line = f"{line} {fields}" if fields else line
        return f"{line}\n{record.exc_text}" if record.exc_text else line


FORMATTERS: dict[str, type[logging.Formatter]] = {"json": JsonFormatter, "text": TextFormatter}


def configure_logging(
    secrets: Iterable[str] = (), level: int = logging.INFO, log_format: Literal["json", "text"] = "json"
) -> None:
    """Every record of this process to stderr in ``log_format``, redacted; replaces earlier configuration."""
    install_redaction(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FORMATTERS[log_format]())
    logging.basicConfig(level=level, handlers=[handler], force=True)
