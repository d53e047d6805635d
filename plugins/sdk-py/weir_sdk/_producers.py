"""Records the toolchain in a component's `producers` section, so that `weir plugin
inspect` can say what built it (componentize-py itself leaves no trace there)."""

from typing import List, Tuple


def _leb(data: bytes, i: int) -> Tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _name(data: bytes, i: int) -> Tuple[str, int]:
    n, i = _leb(data, i)
    return data[i:i + n].decode(), i + n


def _encode_name(text: str) -> bytes:
    raw = text.encode()
    return _uleb(len(raw)) + raw


def _parse(payload: bytes) -> List[Tuple[str, List[Tuple[str, str]]]]:
    fields = []
    count, i = _leb(payload, 0)
    for _ in range(count):
        field, i = _name(payload, i)
        n, i = _leb(payload, i)
        values = []
        for _ in range(n):
            name, i = _name(payload, i)
            version, i = _name(payload, i)
            values.append((name, version))
        fields.append((field, values))
    return fields


def _encode(fields) -> bytes:
    out = bytearray(_uleb(len(fields)))
    for field, values in fields:
        out += _encode_name(field) + _uleb(len(values))
        for name, version in values:
            out += _encode_name(name) + _encode_name(version)
    return bytes(out)


def add(component: bytes, additions: List[Tuple[str, str, str]]) -> bytes:
    """`component` with (field, name, version) entries added to its top-level producers
    section (created at the end if it has none)."""
    out = bytearray(component[:8])
    i = 8
    fields = None
    while i < len(component):
        start = i
        section_id = component[i]
        size, body = _leb(component, i + 1)
        end = body + size
        if section_id == 0 and fields is None:
            name, payload_start = _name(component, body)
            if name == "producers":
                fields = _parse(component[payload_start:end])
                i = end
                continue
        out += component[start:end]
        i = end
    fields = fields or []
    for field, name, version in additions:
        entry = next((f for f in fields if f[0] == field), None)
        if entry is None:
            entry = (field, [])
            fields.append(entry)
        entry[1][:] = [v for v in entry[1] if v[0] != name] + [(name, version)]
    payload = _encode_name("producers") + _encode(fields)
    out += b"\x00" + _uleb(len(payload)) + payload
    return bytes(out)
