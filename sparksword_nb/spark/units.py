"""Spark's own ways of writing and reading sizes and durations, so a number reads as in Spark's UI."""
from __future__ import annotations

import struct
from decimal import ROUND_HALF_UP, Context, Decimal


def bytes_to_string(size: int) -> str:
    """Spark's Utils.bytesToString: `1306.0 B`, `64.0 MiB` (binary units from twice the unit up)."""
    units = [("EiB", 60), ("PiB", 50), ("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)]
    if size >= (1 << 11) * (1 << 60):
        # too large: 3 significant digits, half-up, in BigDecimal.toString's scientific notation
        return f"{Context(prec=3, rounding=ROUND_HALF_UP).create_decimal(size):.2E} B"
    for unit, shift in units:
        if size >= 2 * (1 << shift):
            return f"{_half_up(Decimal(size) / Decimal(1 << shift), 1)} {unit}"
    return f"{_half_up(Decimal(size), 1)} B"


def ms_duration_to_string(ms: int) -> str:
    """Spark's Utils.msDurationToString: `812 ms`, `1.5 s`, `2.0 m`, `1.25 h` (Float arithmetic, half-up)."""
    second, minute, hour = 1000, 60_000, 3_600_000
    if ms < second:
        return f"{ms} ms"
    if ms < minute:
        return f"{_java_float_text(_float32(_float32(ms) / second), 1)} s"
    if ms < hour:
        return f"{_java_float_text(_float32(_float32(ms) / minute), 1)} m"
    return f"{_java_float_text(_float32(_float32(ms) / hour), 2)} h"


def _float32(value: float) -> float:
    """The nearest Java float (division of two floats done in double then rounded is exact for floats)."""
    return struct.unpack("f", struct.pack("f", value))[0]


def _java_float_text(value: float, digits: int) -> str:
    """Java's `%.Nf` of a float: its shortest decimal digits as a double, rounded half-up."""
    return str(_half_up(Decimal(repr(value)), digits))


def _half_up(value: Decimal, digits: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


_BYTE_UNITS = {
    "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3,
    "t": 1024**4, "tb": 1024**4, "p": 1024**5, "pb": 1024**5,
}


def parse_bytes(text: str | int) -> int:
    """Spark's byte strings (`JavaUtils.byteStringAs`): '512k', '64m', '1g', '1048576' (bytes)."""
    if isinstance(text, int):
        return text
    value = str(text).strip().lower()
    digits = value.lstrip("-0123456789")
    number = value[: len(value) - len(digits)] if digits else value
    unit = digits.strip() or "b"
    if not number or number == "-" or unit not in _BYTE_UNITS:
        raise ValueError(f"not a size: {text!r} (use e.g. 512k, 64m, 1g)")
    return int(number) * _BYTE_UNITS[unit]
