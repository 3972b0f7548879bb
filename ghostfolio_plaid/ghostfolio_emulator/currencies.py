"""Which currency codes Ghostfolio's ``@IsCurrencyCode()`` accepts.

Ghostfolio 3.58 (``libs/common/src/lib/validators/is-currency-code.ts``) accepts a "derived" currency (GBp,
ILA, ZAc, USX: prices quoted in minor units) or an upper-case code from validator.js's ISO 4217 list, the list
class-validator's ``isISO4217CurrencyCode`` uses. Lower-case "usd" is refused.
"""

from __future__ import annotations

DERIVED_CURRENCIES = frozenset({"GBp", "ILA", "ZAc", "USX"})

# validator.js 13.15 (src/lib/isISO4217.js): ISO 4217 codes as listed on Wikipedia in 2024.
_ISO_4217_TEXT = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR
    PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST
    XAF XAG XAU XBA XBB XBC XBD XCD XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWL
    """
ISO_4217_CODES = frozenset(_ISO_4217_TEXT.split())


def is_currency_code(value: str | None) -> bool:
    """Ghostfolio's rule for strings (and for a missing value, which fails). Other types are the caller's
    problem: Ghostfolio crashes on them (see ``validation.currency_check``)."""
    if value is None:
        return False
    return value in DERIVED_CURRENCIES or (value == value.upper() and value in ISO_4217_CODES)
