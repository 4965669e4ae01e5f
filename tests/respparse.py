"""Parse raw RESP replies into Python values, for normalising unordered replies in tests."""

from __future__ import annotations

from typing import Any


def parse(buf: bytes, pos: int = 0) -> tuple[Any, int]:
    nl = buf.index(b"\r\n", pos)
    kind, line, after = buf[pos : pos + 1], buf[pos + 1 : nl], nl + 2
    if kind in (b"+", b"-", b":", b"_", b",", b"#", b"("):
        return (kind, line), after
    if kind in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return (kind, None), after
        return (kind, buf[after : after + n]), after + n + 2
    n = int(line)
    if n < 0:
        return (kind, None), after
    count = n * 2 if kind in (b"%", b"|") else n
    items = []
    p = after
    for _ in range(count):
        item, p = parse(buf, p)
        items.append(item)
    return (kind, items), p


def encode(value: Any) -> bytes:
    kind, body = value
    if kind in (b"+", b"-", b":", b"_", b",", b"#", b"("):
        return kind + body + b"\r\n"
    if kind in (b"$", b"=", b"!"):
        if body is None:
            return kind + b"-1\r\n"
        return kind + b"%d\r\n" % len(body) + body + b"\r\n"
    if body is None:
        return kind + b"-1\r\n"
    n = len(body) // 2 if kind in (b"%", b"|") else len(body)
    return kind + b"%d\r\n" % n + b"".join(encode(x) for x in body)


def normalize_unordered(raw: bytes) -> bytes:
    """Sort the top-level elements of an array/set/map reply (pairs kept together for maps)."""
    if not raw or raw[:1] not in (b"*", b"~", b"%"):
        return raw
    value, _ = parse(raw)
    kind, items = value
    if items is None:
        return raw
    if kind == b"%":
        pairs = sorted(zip(items[0::2], items[1::2], strict=True), key=lambda p: encode(p[0]))
        items = [x for p in pairs for x in p]
    else:
        items = sorted(items, key=encode)
    return encode((kind, items))
