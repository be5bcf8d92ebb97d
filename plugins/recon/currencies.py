"""ISO 4217 currencies and their minor-unit exponents (JPY 0, USD 2, KWD 3)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE "
    "CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD "
    "HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU "
    "MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG "
    "SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES "
    "WST XCD XCG YER ZAR ZMW ZWG ZWL"
)

EXPONENTS: dict[str, int] = {
    **{code: 0 for code in _EXPONENT_0.split()},
    **{code: 2 for code in _EXPONENT_2.split()},
    **{code: 3 for code in _EXPONENT_3.split()},
    **{code: 4 for code in _EXPONENT_4.split()},
}


def normalize_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in EXPONENTS:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


def exponent(code: str) -> int:
    return EXPONENTS[normalize_currency(code)]


def to_minor(amount: str, currency: str) -> int:
    """'12.34' USD -> 1234; '1.234' KWD -> 1234; '1234' JPY -> 1234. Refuses precision the currency cannot hold."""
    text = amount.strip()
    if not text or any(c not in "+-.0123456789" for c in text) or text.count(".") > 1:
        raise ValueError(f"{amount!r} is not a decimal amount (digits, one '.', optional sign; no thousands separators)")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{amount!r} is not a decimal amount") from exc
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount!r} has more decimals than {currency.upper()} allows ({exponent(currency)})")
    return int(scaled)
