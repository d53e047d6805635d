"""weir's default enricher in Python: derives `full_name`, `email_domain`, `age` and
`age_group` from a flat user event, at the event's own timestamp.

Ported byte for byte from the Rust enricher (plugins/enricher-core): same outputs, same
error kinds and fields, checked by the shared golden file
tests/fixtures/enricher-golden.jsonl. The output is the input's bytes with the four fields
appended; if the input already has one of them, the object is rewritten compactly with
those fields replaced in place (untouched values keep their original text).
"""

import json
import re
from json.encoder import encode_basestring as _quote  # json.dumps(str, ensure_ascii=False), in C

from weir_sdk import Emit, Event, EventError, Plugin, Splice

#: The fields `enrich` adds, in output order.
DERIVED_FIELDS = ("full_name", "email_domain", "age", "age_group")

_MS_PER_DAY = 86_400_000
# Rust's `str::trim` strips the Unicode White_Space property; Python's `str.strip()` also
# strips U+001C..U+001F, so it would disagree with the Rust enricher.
_WS = "\t\n\v\f\r \u0085\u00a0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"
_BAD_TIME = "expected a time like 10:11:12.123Z after the date"
_DIGITS = frozenset("0123456789")


def trim(text: str) -> str:
    """Trims like Rust's `str::trim`."""
    return text.strip(_WS)


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _well_formed(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _string_field(user: dict, name: str) -> str:
    value = user.get(name)
    if type(value) is str:
        return value
    if name not in user:
        raise EventError.missing_field(name)
    raise EventError.invalid_field(name, f"expected a string, found {_type_name(value)}")


# ---- dates (plugins/enricher-core/src/date.rs) ----

class DateError(ValueError):
    pass


def is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if is_leap_year(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _digits(text: str, start: int, end: int) -> int:
    """Fixed-width ASCII digits of text[start:end], or -1."""
    part = text[start:end]
    if len(part) != end - start or not part or not _DIGITS.issuperset(part):
        return -1
    return int(part)


def _check_time(text: str, at: int) -> None:
    """Checks `HH:MM[:SS[.fraction]][Z|±HH[:]MM]` starting at `at`."""

    def number(start, end, maximum):
        value = _digits(text, at + start, at + end)
        if value < 0:
            raise DateError(_BAD_TIME)
        if value > maximum:
            raise DateError("time field out of range")

    number(0, 2, 23)
    if text[at + 2:at + 3] != ":":
        raise DateError(_BAD_TIME)
    number(3, 5, 59)
    rest = at + 5
    if text[rest:rest + 1] == ":":
        seconds = _digits(text, rest + 1, rest + 3)
        if seconds < 0:
            raise DateError(_BAD_TIME)
        if seconds > 60:  # 60 allows a leap second
            raise DateError("time field out of range")
        rest += 3
        if text[rest:rest + 1] in (".", ","):
            end = rest + 1
            while end < len(text) and text[end] in _DIGITS:
                end += 1
            if end == rest + 1:
                raise DateError(_BAD_TIME)
            rest = end
    tail = text[rest:]
    if tail in ("", "Z", "z"):
        return
    if len(tail) in (5, 6) and tail[0] in "+-":
        if len(tail) == 6 and tail[3] != ":":
            raise DateError(_BAD_TIME)
        hours = _digits(tail, 1, 3)
        minutes = _digits(tail, len(tail) - 2, len(tail))
        if hours < 0 or minutes < 0:
            raise DateError(_BAD_TIME)
        if hours > 23 or minutes > 59:
            raise DateError("time zone offset out of range")
        return
    raise DateError(_BAD_TIME)


# The grammar `parse_iso8601` accepts, ranges included except the month's length, for the
# common case in one call into the regex engine; anything that does not match goes through
# the step-by-step parser for its error message.
_ISO8601 = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"(?:[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?::(?:[0-5]\d|60)(?:[.,]\d+)?)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?",
    re.ASCII,
).fullmatch


def parse_iso8601(text: str):
    """`Date::parse_iso8601`: the calendar date as written, as (year, month, day)."""
    if _ISO8601(text) is not None:
        year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
        if day <= 28 or day <= _days_in_month(year, month):
            return (year, month, day)
    return _parse_iso8601_slowly(text)


def _parse_iso8601_slowly(text: str):
    if len(text) < 10 or text[4] != "-" or text[7] != "-":
        raise DateError("expected an ISO-8601 date like 1990-02-28 or 1990-02-28T10:11:12.123Z")
    year, month, day = _digits(text, 0, 4), _digits(text, 5, 7), _digits(text, 8, 10)
    if year < 0 or month < 0 or day < 0:
        raise DateError("expected digits")
    if not 1 <= month <= 12:
        raise DateError("month out of range 01-12")
    if day == 0 or day > _days_in_month(year, month):
        raise DateError("day does not exist in that month")
    if len(text) > 10:
        if text[10] not in "Tt ":
            raise DateError("unexpected text after the date")
        _check_time(text, 11)
    return (year, month, day)


_last_day = [None, None]  # events of a batch mostly share a day: remember the last one


def date_from_unix_ms(ms: int):
    """The UTC date of a Unix timestamp in milliseconds (Howard Hinnant's `civil_from_days`)."""
    days = ms // _MS_PER_DAY
    if _last_day[0] == days:
        return _last_day[1]
    date = _civil_from_days(days)
    _last_day[:] = [days, date]
    return date


def _civil_from_days(days: int):
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return (yoe + era * 400 + (1 if month <= 2 else 0), month, day)


def age_group(age: int) -> str:
    """The `age_group` label."""
    return _AGE_GROUPS[age] if age < 65 else "65+"


_AGE_GROUPS = tuple(
    "<18" if a < 18 else "18-24" if a < 25 else "25-34" if a < 35 else "35-44" if a < 45 else "45-54" if a < 55
    else "55-64" for a in range(65)
)


def _show(date) -> str:
    return "%04d-%02d-%02d" % date


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


_SCAN = _DECODER.scan_once


def _parse_object(text: str) -> dict:
    user = None
    # The common case, an object from the first character to the last, straight to the C
    # scanner: `decode` adds two regex matches and two Python calls around it. Anything
    # else goes through `decode` for its error message.
    if text[:1] == "{" and text[-1:] == "}":
        try:
            user, end = _SCAN(text, 0)
        except (StopIteration, ValueError, RecursionError):
            user = None
        else:
            if end != len(text):
                user = None
    if user is None:
        try:
            user = _DECODER.decode(text)
        except (ValueError, RecursionError) as e:
            raise EventError.invalid_input(f"value is not a JSON object: {e}") from None
    if type(user) is not dict:
        raise EventError.invalid_input(f"value is not a JSON object: found {_type_name(user)}")
    # serde_json refuses a lone surrogate escape in a key or a string it decodes.
    if "\\u" in text:
        for key in user:
            if not _well_formed(key):
                raise EventError.invalid_input("value is not a JSON object: lone surrogate in hex escape")
    return user


def _derive(user: dict, timestamp_ms: int):
    # Inside the component every call and lookup is interpreted: the common case reads each
    # field once and calls helpers only on the way to an error.
    first = user.get("first_name")
    last = user.get("last_name")
    email = user.get("email")
    dob = user.get("dob")
    if type(first) is not str:
        _string_field(user, "first_name")
    if type(last) is not str:
        _string_field(user, "last_name")
    if type(email) is not str:
        _string_field(user, "email")
    if type(dob) is not str:
        _string_field(user, "dob")
    for text in (first, last, email, dob):
        if not text.isascii() and not _well_formed(text):
            raise EventError.invalid_input("value is not a JSON object: lone surrogate in hex escape")

    f, l = first.strip(_WS), last.strip(_WS)
    full_name = l if f == "" else f if l == "" else f"{f} {l}"
    _, at, domain = email.rpartition("@")
    domain = domain.strip(_WS) if at else ""
    if domain == "":
        raise EventError.invalid_field("email", "expected an address with a domain after `@`")
    try:
        born = parse_iso8601(dob)
    except DateError as e:
        raise EventError.invalid_field("dob", f"{e} (got {json.dumps(dob, ensure_ascii=False)})") from None
    days = timestamp_ms // _MS_PER_DAY
    today = _last_day[1] if _last_day[0] == days else date_from_unix_ms(timestamp_ms)
    if today < born:
        raise EventError.invalid_field("dob", f"date of birth {_show(born)} is after the event's date {_show(today)}")
    age = today[0] - born[0] - (1 if today[1:] < born[1:] else 0)
    return full_name, domain.lower(), age, age_group(age)


def enrich(value: bytes, text: str, timestamp_ms: int):
    """Enriches one event value (`text` is `value` decoded); returns what to emit."""
    user = _parse_object(text)
    full_name, domain, age, group = _derive(user, timestamp_ms)
    if "full_name" in user or "email_domain" in user or "age" in user or "age_group" in user:
        return _replace_in_object(text, full_name, domain, age, group)
    out = Splice(value)
    out.tail = (
        ('"full_name":' if not out.comma else ',"full_name":')
        + _quote(full_name)
        + ',"email_domain":'
        + _quote(domain)
        + f',"age":{age},"age_group":"{group}"'
    )
    return out


# ---- the slow path: the input already has a derived field (weir_json::Object) ----

_JSON_WS = " \t\n\r"


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _JSON_WS:
        i += 1
    return i


def _string_end(text: str, i: int) -> int:
    i += 1
    while True:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        else:
            i += 1


def _value_end(text: str, i: int) -> int:
    c = text[i]
    if c == '"':
        return _string_end(text, i)
    if c in "{[":
        depth = 0
        while True:
            d = text[i]
            if d == '"':
                i = _string_end(text, i)
                continue
            if d in "{[":
                depth += 1
            elif d in "}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
    while i < len(text) and text[i] not in ",}] \t\n\r":
        i += 1
    return i


def members(text: str):
    """The members of a valid JSON object as [decoded key, raw value text], in order."""
    out = []
    i = _skip_ws(text, _skip_ws(text, 0) + 1)
    if text[i] == "}":
        return out
    while True:
        key_end = _string_end(text, i)
        key = json.loads(text[i:key_end])
        i = _skip_ws(text, _skip_ws(text, key_end) + 1)
        end = _value_end(text, i)
        out.append([key, text[i:end]])
        i = _skip_ws(text, end)
        if text[i] == "}":
            return out
        i = _skip_ws(text, i + 1)


def _replace_in_object(text: str, full_name: str, domain: str, age: int, group: str) -> str:
    fields = members(text)

    def put(key, raw):
        found = False
        for field in fields:
            if field[0] == key:
                field[1] = raw
                found = True
        if not found:
            fields.append([key, raw])

    put("full_name", json.dumps(full_name, ensure_ascii=False))
    put("email_domain", json.dumps(domain, ensure_ascii=False))
    put("age", str(age))
    put("age_group", json.dumps(group))
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + v for k, v in fields) + "}"


class Enricher(Plugin):
    """The enricher plugin; stateless, takes no configuration."""

    def process(self, event: Event, out: Emit) -> None:
        out.value(enrich(event.value, event.text(), event.timestamp_ms))
