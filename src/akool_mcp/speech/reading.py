"""Text read as people read it: English written forms turned into the words a speaker says.

Money, numbers, ordinals, years and dates, times, percentages, units, common abbreviations, URLs and
e-mail addresses become words ("$1,250" -> "one thousand two hundred fifty dollars") before the
English front end sees them, so every English voice reads them alike; what is left (rarer forms) is
read by hibari's own normaliser. Captions keep the text as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from akool_mcp.speech.numbers import cardinal, decimal, digits, ordinal, year

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_ABBREV = {m[:3].lower(): m for m in _MONTHS} | {"sept": "September"}
_MONTH_WORD = "|".join(_MONTHS) + "|" + "|".join(f"{a.capitalize()}\\.?" for a in _MONTH_ABBREV)

_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "", ""),
}
_SCALE_WORDS = {"k": "thousand", "m": "million", "bn": "billion", "b": "billion", "t": "trillion"}
_UNITS = {
    "km/h": "kilometers per hour", "kph": "kilometers per hour", "mph": "miles per hour", "km": "kilometers",
    "cm": "centimeters", "mm": "millimeters", "m": "meters", "kg": "kilograms", "mg": "milligrams",
    "g": "grams", "lbs": "pounds", "lb": "pounds", "oz": "ounces", "mi": "miles", "ft": "feet",
    "ml": "milliliters", "l": "liters", "L": "liters", "GB": "gigabytes", "MB": "megabytes", "KB": "kilobytes",
    "TB": "terabytes", "GHz": "gigahertz", "MHz": "megahertz", "kHz": "kilohertz", "Hz": "hertz",
    "kW": "kilowatts", "kWh": "kilowatt hours", "W": "watts", "V": "volts", "ms": "milliseconds",
    "sec": "seconds", "secs": "seconds", "min": "minutes", "mins": "minutes", "hr": "hours", "hrs": "hours",
    "h": "hours", "°C": "degrees Celsius", "°F": "degrees Fahrenheit", "°": "degrees",
}  # fmt: skip
_SINGULAR = {"feet": "foot", "hertz": "hertz", "Celsius": "Celsius", "Fahrenheit": "Fahrenheit"}
_ABBREVIATIONS = {
    "Dr.": "Doctor", "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Prof.": "Professor", "Jr.": "Junior",
    "Sr.": "Senior", "Mt.": "Mount", "etc.": "et cetera", "e.g.": "for example",
    "i.e.": "that is", "vs.": "versus", "approx.": "approximately", "Inc.": "Incorporated", "Ltd.": "Limited",
    "Corp.": "Corporation", "Ave.": "Avenue", "Dept.": "Department", "Jan.": "January", "Feb.": "February",
    "Aug.": "August", "Sept.": "September", "Oct.": "October", "Nov.": "November", "Dec.": "December",
}  # fmt: skip
# Written as one word: the English front end reads "AM" as "ay em", but a lone "A" as the article ("uh").
_HALF_DAY = {"a": "AM", "p": "PM"}
_SYMBOLS = {"&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "%": " percent "}


def _sub(pattern: str, fn: Callable[[re.Match[str]], str], text: str, flags: int = 0) -> str:
    return re.sub(pattern, fn, text, flags=flags)


def _number(text: str) -> str:
    """A written number as words: a year-like integer reads as a year only where the caller says so."""
    return decimal(text)


def _money(m: re.Match[str]) -> str:
    symbol, amount, scale = m.group(1), m.group(2), (m.group(3) or "").lower()
    one, many, cent, cents = _CURRENCIES[symbol]
    if scale:
        return f"{decimal(amount)} {_SCALE_WORDS.get(scale, scale)} {many}"
    whole_text, _, fraction = amount.replace(",", "").partition(".")
    whole = int(whole_text or "0")
    parts: list[str] = []
    if whole or not fraction or not cent:
        parts.append(f"{cardinal(whole)} {one if whole == 1 else many}")
    if fraction and cent:
        hundredths = int((fraction + "0")[:2])
        if hundredths:
            parts.append(f"{cardinal(hundredths)} {cent if hundredths == 1 else cents}")
    elif fraction:
        return f"{decimal(amount)} {many}"
    return " and ".join(parts)


def _time(m: re.Match[str]) -> str:
    hour, minute, half = int(m.group(1)), int(m.group(2)), (m.group(3) or "").lower().replace(".", "")
    spoken = cardinal(hour)
    if minute == 0:
        spoken += "" if half else " o'clock"
    elif minute < 10:
        spoken += f" oh {cardinal(minute)}"
    else:
        spoken += f" {cardinal(minute)}"
    if half:
        spoken += f" {_HALF_DAY[half[0]]}{_full_stop(m)}"
    return spoken


def _full_stop(m: re.Match[str]) -> str:
    """The full stop of "a.m." when it also ends the sentence (the text ends, or a new sentence begins)."""
    rest = m.string[m.end() :]
    return "." if m.group(0).endswith(".") and (not rest.strip() or re.match(r"\s+[A-Z]", rest)) else ""


def _month(name: str) -> str:
    return _MONTH_ABBREV.get(name.rstrip(".").lower()[:3], name)


def _date_iso(m: re.Match[str]) -> str:
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group(0)
    return f"{_MONTHS[mo - 1]} {ordinal(d)}, {year(y)}"


def _date_us(m: re.Match[str]) -> str:
    mo, d, y = int(m.group(1)), int(m.group(2)), m.group(3)
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group(0)
    full = int(y) + (2000 if len(y) == 2 else 0)
    return f"{_MONTHS[mo - 1]} {ordinal(d)}, {year(full)}"


def _month_day(m: re.Match[str]) -> str:
    spoken = f"{_month(m.group(1))} {ordinal(int(m.group(2)))}"
    return spoken + (f", {year(int(m.group(3)))}" if m.group(3) else "")


def _day_month(m: re.Match[str]) -> str:
    spoken = f"the {ordinal(int(m.group(1)))} of {_month(m.group(2))}"
    return spoken + (f", {year(int(m.group(3)))}" if m.group(3) else "")


def _unit(m: re.Match[str]) -> str:
    amount, unit = m.group(1), m.group(2)
    words = _UNITS[unit]
    if amount.lstrip("-") in ("1", "1.0"):
        first, _, rest = words.partition(" ")
        words = " ".join(filter(None, (_SINGULAR.get(first, first.removesuffix("s")), rest)))
    return f"{_signed(amount)} {words}"


def _signed(amount: str) -> str:
    return ("minus " if amount.startswith("-") else "") + decimal(amount.lstrip("-"))


def _url(m: re.Match[str]) -> str:
    address = re.sub(r"^(?:https?://)?(?:www\.)?", "", m.group(0), flags=re.IGNORECASE).rstrip("/")
    return _spell_address(address)


def _email(m: re.Match[str]) -> str:
    return f"{_spell_address(m.group(1))} at {_spell_address(m.group(2))}"


def _spell_address(address: str) -> str:
    words: list[str] = []
    for piece in re.split(r"([./\-_:?=&])", address):
        if piece in _ADDRESS_PUNCTUATION:
            words.append(_ADDRESS_PUNCTUATION[piece])
        elif piece.isdigit():
            words.append(digits(piece) if len(piece) > 4 else cardinal(int(piece)))
        elif piece:
            words.append(piece)
    return " ".join(words)


_ADDRESS_PUNCTUATION = {".": "dot", "/": "slash", "-": "dash", "_": "underscore", ":": "colon", "?": "question mark",
                        "=": "equals", "&": "and"}  # fmt: skip


def _saint_or_street(m: re.Match[str]) -> str:
    """ "Main St." is a street, "St. Paul" a saint."""
    before, after = m.group(1) or "", m.group(2) or ""
    return f"{before}{'Saint' if after and not before else 'Street'}{after}"


def _year_or_number(m: re.Match[str]) -> str:
    value = m.group(0)
    if re.fullmatch(r"1[1-9]\d\d|20\d\d", value):
        return year(int(value))
    return _number(value)


def read_aloud(text: str) -> str:
    """English text with its written forms spelled as spoken words."""
    t = text
    t = _sub(r"\b(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)]", _url, t, re.IGNORECASE)
    t = _sub(r"\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b", _email, t)
    t = _sub(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|ai|dev|co\.uk|co|edu|gov|app)\b(?:/[^\s.,;!?)]*)?",
             _url, t, re.IGNORECASE)  # fmt: skip
    t = _sub(r"(\b[A-Z][a-z]+ )?(?<![\w.])St\.( [A-Z])?", _saint_or_street, t)
    for short, long in _ABBREVIATIONS.items():
        t = re.sub(rf"(?<![\w.]){re.escape(short)}(?=\s|$)", long, t)
    t = _sub(rf"([$£€¥])\s?({_NUM})(?:\s?(k|m|bn|b|t|thousand|million|billion|trillion)\b)?", _money, t, re.I)
    t = _sub(r"\b(\d{4})-(\d{2})-(\d{2})\b", _date_iso, t)
    t = _sub(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b", _date_us, t)
    t = _sub(rf"\b({_MONTH_WORD}) (\d{{1,2}})(?:st|nd|rd|th)?\b(?:,? (\d{{4}})\b)?", _month_day, t)
    t = _sub(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH_WORD})\b(?:,? (\d{{4}})\b)?", _day_month, t)
    t = _sub(r"\b(\d{1,2}):(\d{2})(?:\s?([AaPp]\.?[Mm]\.?)(?![A-Za-z]))?(?!\d)", _time, t)
    t = _sub(r"\b(\d{1,2})\s?([AaPp]\.?[Mm]\.?)(?![A-Za-z])", lambda m: f"{cardinal(int(m.group(1)))} "
             + _HALF_DAY[m.group(2)[0].lower()] + _full_stop(m), t)  # fmt: skip
    t = _sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: ordinal(int(m.group(1))), t, re.IGNORECASE)
    t = _sub(r"\b(1[1-9]\d0|20\d0)s\b", lambda m: year(int(m.group(1)))[:-1] + "ies"
             if year(int(m.group(1))).endswith("y") else year(int(m.group(1))) + "s", t)  # fmt: skip
    units = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    t = _sub(rf"(?<![\w.])(-?(?:{_NUM}))\s?({units})(?![\w/])", _unit, t)
    t = _sub(rf"(?<![\w.])(-?(?:{_NUM}))\s?%", lambda m: f"{_signed(m.group(1))} percent", t)
    t = _sub(rf"(?<![\w.])({_NUM})\s?(?:-|–|to)\s?({_NUM})(?![\w.])", lambda m: f"{_number(m.group(1))} to "
             f"{_number(m.group(2))}", t)  # fmt: skip
    t = re.sub(r"(?<![\w.])-(\d)", r"minus \1", t)
    t = _sub(r"#(\d+)", lambda m: f"number {cardinal(int(m.group(1)))}", t)
    t = _sub(rf"(?<![\w.,])(?:{_NUM})(?![\w])", _year_or_number, t)
    for symbol, word in _SYMBOLS.items():
        t = t.replace(symbol, word)
    return re.sub(r"[ \t]+", " ", t).strip()
