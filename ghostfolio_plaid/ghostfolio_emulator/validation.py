"""A small re-implementation of class-validator + NestJS's ValidationPipe, enough for Ghostfolio's DTOs.

Ghostfolio 3.58 runs ``new ValidationPipe({forbidNonWhitelisted: true, transform: true, whitelist: true})``
on every body and query DTO. What this module reproduces, because clients see it in the 400 answers:

- Unknown keys (at any nesting level) are errors: ``property foo should not exist``, listed first.
- ``@IsOptional()`` skips a property that is null or missing; otherwise every check of a property runs and
  each failure adds a message, in the order the decorators register (bottom-up in the DTO source).
- Nested arrays (``@ValidateNested({each: true})``) prefix messages with the path: NestJS prepends
  ``activities.0.`` to the whole message, so an unknown key inside an activity reads
  ``activities.0.property foo should not exist``.
- When a property has nested errors, NestJS drops that property's own messages (``mapChildrenToValidationErrors``).

A ``Check`` whose predicate raises ``HttpError`` stands for a Ghostfolio validator that crashes on a wrong type
(the currency check calls ``toUpperCase`` on whatever it gets): that request is a 500, as in Ghostfolio.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ghostfolio_plaid.ghostfolio_emulator.currencies import is_currency_code
from ghostfolio_plaid.ghostfolio_emulator.dates import is_after_1970, is_iso8601
from ghostfolio_plaid.ghostfolio_emulator.errors import HttpError


@dataclass(frozen=True)
class Check:
    """One validator: its constraint name, whether a value passes, and its message (``$property`` filled in)."""

    name: str
    passes: Callable[[Any], bool]
    message: str
    each: bool = False  # ``{each: true}``: applied to every element when the value is an array


@dataclass(frozen=True)
class Prop:
    name: str
    checks: tuple[Check, ...] = ()
    optional: bool = False  # @IsOptional(): null or missing skips every check
    skip_if_null: bool = False  # @ValidateIf((_, value) => value !== null)
    nested: Dto | None = None  # @ValidateNested({each: true}) + @Type(() => nested)
    transform: Callable[[Any], Any] | None = None  # class-transformer's @Transform/@Type, applied first


@dataclass(frozen=True)
class Dto:
    name: str
    props: tuple[Prop, ...]

    def prop_names(self) -> frozenset[str]:
        return frozenset(prop.name for prop in self.props)


@dataclass
class ValidationError:
    property: str
    constraints: dict[str, str] = field(default_factory=dict)
    children: list[ValidationError] = field(default_factory=list)


# --- checks ------------------------------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    """``typeof value === 'number'`` and finite (IsNumber's defaults refuse NaN and Infinity)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_string(value: Any) -> bool:
    return isinstance(value, str)


def is_string_check() -> Check:
    return Check("isString", is_string, "$property must be a string")


def each_string_check() -> Check:
    return Check("isString", is_string, "each value in $property must be a string", each=True)


def is_number_check() -> Check:
    return Check("isNumber", is_number, "$property must be a number conforming to the specified constraints")


def min_check(minimum: float) -> Check:
    shown = int(minimum) if float(minimum).is_integer() else minimum
    return Check("min", lambda v: is_number(v) and v >= minimum, f"$property must not be less than {shown}")


def is_int_check() -> Check:
    return Check("isInt", lambda v: is_number(v) and float(v).is_integer(), "$property must be an integer number")


def is_boolean_check() -> Check:
    return Check("isBoolean", lambda v: isinstance(v, bool), "$property must be a boolean value")


def is_array_check() -> Check:
    return Check("isArray", lambda v: isinstance(v, list), "$property must be an array")


def array_unique_check() -> Check:
    def unique(value: Any) -> bool:
        if not isinstance(value, list):
            return False
        seen: list[Any] = []
        for item in value:
            if any(type(item) is type(other) and item == other for other in seen):
                return False
            seen.append(item)
        return True

    return Check("arrayUnique", unique, "All $property's elements must be unique")


def enum_check(values: tuple[str, ...], *, each: bool = False) -> Check:
    prefix = "each value in " if each else ""
    return Check(
        "isEnum",
        lambda v: isinstance(v, str) and v in values,
        f"{prefix}$property must be one of the following values: {', '.join(values)}",
        each=each,
    )


def is_in_check(values: tuple[str, ...], message: str | None = None) -> Check:
    return Check(
        "isIn",
        lambda v: isinstance(v, str) and v in values,
        message or f"$property must be one of the following values: {', '.join(values)}",
    )


def currency_check() -> Check:
    """``@IsCurrencyCode()``: a number, boolean, array or object makes Ghostfolio's validator throw a TypeError
    (``aString?.toUpperCase`` is not a function), which the request answers as a 500."""

    def passes(value: Any) -> bool:
        if value is not None and not isinstance(value, str):
            raise HttpError.internal()
        return is_currency_code(value)

    return Check("isExtendedCurrency", passes, "$property must be a valid ISO4217 currency code")


def iso8601_check() -> Check:
    return Check("isIso8601", is_iso8601, "$property must be a valid ISO 8601 date string")


def after_1970_check() -> Check:
    return Check("isAfter1970", is_after_1970, "date must be after 1970")


def uuid_check() -> Check:
    return Check("isUuid", is_uuid, "$property must be a UUID")


def url_check() -> Check:
    return Check("isUrl", is_http_url, "$property must be a URL address")


def matches_check(pattern: str, description: str) -> Check:
    compiled = re.compile(pattern)
    return Check(
        "matches",
        lambda v: isinstance(v, str) and compiled.search(v) is not None,
        f"$property must match {description} regular expression",
    )


def is_uuid(value: Any) -> bool:
    """validator.js ``isUUID(value)`` (version "all"): RFC 4122 versions 1-8, or the nil and max UUIDs."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    lowered = value.lower()
    if lowered in ("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"):
        return True
    groups = lowered.split("-")
    if [len(g) for g in groups] != [8, 4, 4, 4, 12] or any(c not in "0123456789abcdef" for g in groups for c in g):
        return False
    return groups[2][0] in "12345678" and groups[3][0] in "89ab"


def is_http_url(value: Any) -> bool:
    """validator.js ``isURL`` with ``protocols: ['http', 'https'], require_protocol: true`` (host needs a TLD)."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    labels = host.split(".")
    return len(labels) >= 2 and all(labels) and labels[-1].isalpha() and len(labels[-1]) >= 2


# --- the executor --------------------------------------------------------------------------------------------


def _run_checks(prop: Prop, value: Any, error: ValidationError) -> None:
    for check in prop.checks:
        if check.each and isinstance(value, list):
            ok = all(check.passes(item) for item in value)
        else:
            ok = check.passes(value)
        if not ok:
            error.constraints[check.name] = check.message.replace("$property", prop.name)


def _nested(prop: Prop, dto: Dto, value: Any, error: ValidationError) -> None:
    """class-validator's ``nestedValidations`` for ``{each: true}`` (a missing value never gets here)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            child = ValidationError(str(index))
            error.children.append(child)
            _nested(prop, dto, item, child)
    elif isinstance(value, dict):
        error.children.extend(validate(dto, value))
    else:  # null, a string, a number: not something to validate as a DTO
        error.constraints["nestedValidation"] = (
            f"each value in nested property {prop.name} must be either object or array"
        )


def validate(dto: Dto, obj: Mapping[str, Any]) -> list[ValidationError]:
    """Errors for one object (already transformed), in class-validator's order."""
    errors: list[ValidationError] = []
    allowed = dto.prop_names()
    for key in obj:
        if key not in allowed:
            errors.append(ValidationError(key, {"whitelistValidation": f"property {key} should not exist"}))
    for prop in dto.props:
        present = prop.name in obj
        value = obj.get(prop.name)
        error = ValidationError(prop.name)
        errors.append(error)
        if prop.optional and value is None:
            continue
        if prop.skip_if_null and present and value is None:
            continue
        _run_checks(prop, value, error)
        if prop.nested is not None and present:  # undefined: no nested validation
            _nested(prop, prop.nested, value, error)
    return _strip_empty(errors)


def _strip_empty(errors: list[ValidationError]) -> list[ValidationError]:
    kept = []
    for error in errors:
        error.children = _strip_empty(error.children)
        if error.constraints or error.children:
            kept.append(error)
    return kept


def flatten(errors: list[ValidationError]) -> list[str]:
    """NestJS's ``flattenValidationErrors``: messages with their parents' path prepended."""
    messages: list[str] = []
    for error in errors:
        for item, prefix in _with_paths(error, None):
            messages.extend(f"{prefix}{message}" for message in item.constraints.values())
    return messages


def _with_paths(error: ValidationError, parent: str | None) -> list[tuple[ValidationError, str]]:
    if not error.children:
        return [(error, f"{parent}." if parent else "")]
    path = f"{parent}.{error.property}" if parent else error.property
    found: list[tuple[ValidationError, str]] = []
    for child in error.children:
        if child.children:
            found.extend(_with_paths(child, path))
        found.append((child, f"{path}."))
    return found


def transform(dto: Dto, obj: Mapping[str, Any]) -> dict[str, Any]:
    """class-transformer's ``plainToInstance``: a copy with each property's transform applied (nested too)."""
    result = dict(obj)
    for prop in dto.props:
        if prop.name not in result:
            continue
        value = result[prop.name]
        if prop.transform is not None:
            value = prop.transform(value)
        if prop.nested is not None and isinstance(value, list):
            value = [transform(prop.nested, item) if isinstance(item, dict) else item for item in value]
        elif prop.nested is not None and isinstance(value, dict):
            value = transform(prop.nested, value)
        result[prop.name] = value
    return result


def validated(dto: Dto, body: Any) -> dict[str, Any]:
    """The ValidationPipe: the transformed body, or a 400 with every message.

    A JSON array body is validated as an array (no metadata): "an unknown value was passed to the validate
    function"; a missing body is validated as ``{}``.
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise HttpError.validation(["an unknown value was passed to the validate function"])
    instance = transform(dto, body)
    messages = flatten(validate(dto, instance))
    if messages:
        raise HttpError.validation(messages)
    return instance


def trim_if_string(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value
