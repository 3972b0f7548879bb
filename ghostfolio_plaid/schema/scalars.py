"""Scalars whose wire format is part of the API contract."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.schema.types.base_scalars import DecimalDefinition


def plain_decimal(value: object) -> str:
    """``Decimal("0E-8")`` is what PostgreSQL's numeric(28, 8) gives back for zero, and ``str()`` of it is
    ``"0E-8"``: JavaScript's ``Number("0E-8")`` copes, but ``BigInt``, most decimal libraries and people do not."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"Decimal cannot represent {value!r}")
    if value.is_zero():
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


PLAIN_DECIMAL = strawberry.scalar(
    name="Decimal",
    description=(
        "A decimal number as a string in plain notation, never with an exponent: an optional minus sign, the "
        'integer digits, then a point and the fractional digits only if they are not all zero ("0", "12", '
        '"-0.5", "0.00000001", "1234.56"). Trailing zeros are dropped, so the string does not tell the scale. '
        "Input accepts a string or a number."
    ),
    serialize=plain_decimal,
    parse_value=DecimalDefinition.parse_value,
)
