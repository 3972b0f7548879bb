"""The Sandbox institutions Plaid documents (plaid.com/docs/sandbox/institutions/), with their real ids, names
and countries, and how ``/institutions/get_by_id`` describes them.

Only what Plaid's ``Institution`` schema (and plaid-python 46's model of it) names is ever answered: the
optional metadata (url, logo, brand colour) only when ``options.include_optional_metadata`` asks for it, as
Plaid does. The data each institution's items carry is built in ``fixtures.py`` from the ``seed``.
"""

from __future__ import annotations

import base64
import functools
import struct
import zlib
from dataclasses import dataclass
from typing import Any

# Every product an emulator institution lists; items may hold any of them but ``balance`` (see products.py).
INSTITUTION_PRODUCTS = ("assets", "auth", "balance", "identity", "investments", "liabilities", "transactions")
LOGO_SIZE = 152  # Plaid: "a base64 encoded 152x152 PNG"


@dataclass(frozen=True)
class Institution:
    institution_id: str
    name: str
    seed: int
    country_codes: tuple[str, ...] = ("US",)
    oauth: bool = False
    url: str = "https://www.plaid.com"
    primary_color: str = "#1f1f1f"
    routing_numbers: tuple[str, ...] = ()

    @property
    def country(self) -> str:
        return self.country_codes[0]


INSTITUTIONS: dict[str, Institution] = {
    i.institution_id: i
    for i in (
        Institution("ins_109508", "First Platypus Bank", 1, primary_color="#2b7de1"),
        Institution("ins_109509", "First Gingham Credit Union", 2, primary_color="#d81e5b"),
        Institution("ins_109510", "Tattersall Federal Credit Union", 3, primary_color="#1d6f42"),
        Institution("ins_109511", "Tartan Bank", 4, primary_color="#8c1515"),
        Institution("ins_109512", "Houndstooth Bank", 5, primary_color="#333333", routing_numbers=("021000021",)),
        Institution("ins_116834", "Flexible Platypus Open Banking", 6, ("GB",), oauth=True, primary_color="#00a0a0"),
        Institution("ins_130016", "First Platypus Balance Bank", 7, primary_color="#2b7de1"),
        Institution("ins_43", "Tartan-Dominion Bank of Canada", 8, ("CA",), primary_color="#c8102e"),
        Institution("ins_117650", "Royal Bank of Plaid", 9, ("GB",), oauth=True, primary_color="#002d72"),
        Institution("ins_127287", "Platypus OAuth Bank", 10, oauth=True, primary_color="#2b7de1"),
        Institution("ins_132241", "First Platypus OAuth App2App Bank", 11, oauth=True, primary_color="#2b7de1"),
        Institution("ins_117181", "Flexible Platypus Open Banking", 12, ("GB",), oauth=True, primary_color="#00a0a0"),
        Institution("ins_135858", "Windowpane Bank", 13, primary_color="#6b8e23", routing_numbers=("333333334",)),
        Institution("ins_132363", "Unhealthy Platypus Bank - Degraded", 14, primary_color="#ffb000"),
        Institution("ins_132361", "Unhealthy Platypus Bank - Down", 15, primary_color="#b00020"),
        Institution("ins_133402", "Unsupported Platypus Bank - Institution Not Supported", 16),
        Institution("ins_133502", "Platypus Bank RUX Auth", 17),
        Institution("ins_133503", "Platypus Bank RUX Match", 18),
    )
}


@functools.cache
def logo(color: str) -> str:
    """A 152x152 PNG in the institution's colour, base64-encoded, built with zlib alone (no image library)."""
    pixel = bytes.fromhex(color.removeprefix("#"))
    rows = (b"\x00" + pixel * LOGO_SIZE) * LOGO_SIZE  # filter byte 0, then RGB pixels, per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", LOGO_SIZE, LOGO_SIZE, 8, 2, 0, 0, 0)  # 8-bit truecolour
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def institution_json(institution: Institution, options: dict[str, Any]) -> dict[str, Any]:
    """``/institutions/get_by_id``'s ``institution``: each optional part only when its option asks for it.

    Plaid documents that institution status is not available in the Sandbox (so ``status`` is null when asked
    for), and no Sandbox institution offers Payment Initiation metadata to this client.
    """
    answer: dict[str, Any] = {
        "institution_id": institution.institution_id,
        "name": institution.name,
        "products": list(INSTITUTION_PRODUCTS),
        "country_codes": list(institution.country_codes),
        "routing_numbers": list(institution.routing_numbers),
        "dtc_numbers": [],
        "oauth": institution.oauth,
        "connection_availability": "SUPPORTED",  # required by plaid-python 46's model
    }
    if options.get("include_optional_metadata"):
        answer.update(
            url=institution.url, primary_color=institution.primary_color, logo=logo(institution.primary_color)
        )
    if options.get("include_status"):
        answer["status"] = None
    if options.get("include_auth_metadata"):
        answer["auth_metadata"] = {
            "supported_methods": {
                "instant_auth": institution.institution_id not in ("ins_109512", "ins_135858"),
                "instant_match": institution.institution_id == "ins_109512",
                "automated_micro_deposits": institution.institution_id == "ins_109512",
                "instant_micro_deposits": institution.institution_id == "ins_135858",
            }
        }
    if options.get("include_payment_initiation_metadata"):
        answer["payment_initiation_metadata"] = None
    return answer
