"""Dates as Ghostfolio reads them: which strings pass ``@IsISO8601()``, which pass "after 1970", how they parse.

Three different readers meet in Ghostfolio 3.58 and disagree at the edges, which clients can hit:

- ``@IsISO8601()`` (validator.js, non-strict): a broad ISO 8601 grammar (week and ordinal dates, basic format,
  ``2024-02-31`` too: the calendar is not checked).
- ``IsAfter1970Constraint`` runs ``new Date(value)`` (V8): only the ES date-time forms parse, and V8 rolls
  impossible days over (``2024-02-31`` is 2 March), so that string passes both checks.
- The import then stores ``parseISO(value)`` (date-fns), which refuses ``2024-02-31``: the database write of
  that activity fails, after the activities before it were written.

The server's time zone is taken to be UTC (Ghostfolio's Docker image), so date-only and zone-less strings mean
UTC. Timestamps keep millisecond precision, like a JavaScript ``Date``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# validator.js's non-strict isISO8601 grammar, restated: year (not followed by a lone 2-digit group), then
# optionally a calendar month[-day], a week[-weekday] or an ordinal day, then optionally a time with
# fractions and a zone.
_ISO_8601 = re.compile(
    r"""
    [+-]?\d{4}(?!\d{2}\b)
    (?:
      (?P<sep>-?)
      (?:
        (?:0[1-9]|1[0-2])(?:(?P=sep)(?:[12]\d|0[1-9]|3[01]))?
        | W(?:0[1-9]|[1-4]\d|5[0-3])(?:-?[1-7])?
        | (?:00[1-9]|0[1-9]\d|[12]\d{2}|3(?:[0-5]\d|6[0-6]))
      )
      (?:
        [T\s]
        (?:
          (?:(?:[01]\d|2[0-3])(?:(?P<tsep>:?)[0-5]\d)?|24:?00)
          (?:[.,]\d+(?!:))?
        )?
        (?:(?P=tsep)[0-5]\d(?:[.,]\d+)?)?
        (?:[zZ]|[+-](?:[01]\d|2[0-3]):?(?:[0-5]\d)?)?
      )?
    )?
    """,
    re.VERBOSE | re.ASCII,
)

# The forms both V8 and date-fns read: YYYY[-MM[-DD]][(T| )hh:mm[:ss[.fff]]][Z|±hh[:]mm|±hh].
_READABLE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)

# What Prisma accepts for a DateTime given as a string (RFC 3339): date, time and zone.
_RFC_3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|z|[+-]\d{2}:\d{2})", re.ASCII)


def is_iso8601(value: object) -> bool:
    return isinstance(value, str) and _ISO_8601.fullmatch(value) is not None


def _offset(zone: str | None) -> timedelta:
    if not zone or zone in ("Z", "z"):
        return timedelta(0)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))


def _read(value: str, *, roll_over: bool) -> datetime | None:
    match = _READABLE.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    months, days = int(month or 1), int(day or 1)
    if not 1 <= months <= 12 or not 1 <= days <= 31 or int(hour or 0) > 23:
        return None
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    try:
        if roll_over:  # V8: day 31 of a 30-day month is the 1st of the next one
            base = datetime.combine(date(int(year), months, 1), datetime.min.time(), tzinfo=UTC)
            base += timedelta(days=days - 1)
        else:
            base = datetime(int(year), months, days, tzinfo=UTC)
    except ValueError:
        return None
    moment = base + timedelta(
        hours=int(hour or 0), minutes=int(minute or 0), seconds=int(second or 0), milliseconds=millis
    )
    return moment - _offset(zone)


def parse_date(value: str) -> datetime | None:
    """``parseISO`` (date-fns) for the common forms: None is date-fns's Invalid Date."""
    return _read(value, roll_over=False)


def js_date(value: object) -> datetime | None:
    """``new Date(value)`` as V8 computes it (None: Invalid Date)."""
    if isinstance(value, bool):
        return EPOCH + timedelta(milliseconds=int(value))
    if value is None:
        return EPOCH
    if isinstance(value, int | float):
        try:
            return EPOCH + timedelta(milliseconds=value)
        except OverflowError:
            return None
    if isinstance(value, str):
        return _read(value, roll_over=True)
    return None


def is_after_1970(value: object) -> bool:
    """``isAfter(value, new Date(0))``: strictly after the epoch, Invalid Date never is."""
    moment = js_date(value)
    return moment is not None and moment > EPOCH


def is_prisma_datetime(value: object) -> bool:
    return isinstance(value, str) and _RFC_3339.fullmatch(value) is not None and parse_date(value) is not None


def start_of_day(moment: datetime) -> datetime:
    """``resetHours``: midnight of that day (UTC)."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def end_of_today() -> datetime:
    return start_of_day(utc_now()) + timedelta(days=1) - timedelta(milliseconds=1)


def utc_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_json(moment: datetime | None) -> str | None:
    """``Date.prototype.toJSON``: ``2024-01-02T00:00:00.000Z`` (an Invalid Date serialises as null)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
