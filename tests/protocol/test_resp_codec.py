"""Unit and property tests for the sans-IO RESP codec (no sockets)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snakedis.protocol.resp import (
    NULL_ARRAY,
    BigNumber,
    ErrorReply,
    ProtocolError,
    PushReply,
    RequestParser,
    SetReply,
    Simple,
    Verbatim,
    encode,
    encode_command,
    format_double,
    split_args,
    string2ll,
)

args_st = st.lists(st.binary(max_size=40), min_size=1, max_size=6)


def parse_all(chunks: list[bytes]) -> tuple[list[list[bytes]], ProtocolError | None]:
    p = RequestParser()
    frames: list[list[bytes]] = []
    for c in chunks:
        got, err = p.parse(c)
        frames.extend(got)
        if err is not None:
            return frames, err
    return frames, None


@given(st.lists(args_st, min_size=1, max_size=8), st.data())
@settings(max_examples=300, deadline=None)
def test_multibulk_frames_survive_any_split(commands: list[list[bytes]], data: st.DataObject) -> None:
    stream = b"".join(encode_command(*c) for c in commands)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    chunks = [c for c in chunks if c]
    frames, err = parse_all(chunks)
    assert err is None
    assert frames == commands


@given(st.lists(args_st, min_size=1, max_size=5))
@settings(max_examples=100, deadline=None)
def test_byte_at_a_time(commands: list[list[bytes]]) -> None:
    stream = b"".join(encode_command(*c) for c in commands)
    frames, err = parse_all([stream[i : i + 1] for i in range(len(stream))])
    assert err is None
    assert frames == commands


def test_inline_and_multibulk_mixed() -> None:
    frames, err = parse_all([b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nset a 'b c'\n*1\r\n$4\r\nPING\r\n"])
    assert err is None
    assert frames == [[b"PING"], [b"ECHO", b"hi"], [b"set", b"a", b"b c"], [b"PING"]]


def test_empty_inline_lines_are_skipped() -> None:
    frames, err = parse_all([b"\r\n\r\n   \r\nPING\r\n"])
    assert (frames, err) == ([[b"PING"]], None)


def test_protocol_errors_have_redis_wording() -> None:
    cases = {
        b"*abc\r\n": "Protocol error: invalid multibulk length",
        b"*3000000000\r\n": "Protocol error: invalid multibulk length",
        b"*1\r\nfoo\r\n": "Protocol error: expected '$', got 'f'",
        b"*1\r\n$-5\r\n": "Protocol error: invalid bulk length",
        b"*1\r\n$9999999999\r\n": "Protocol error: invalid bulk length",
        b'set a "b\r\n': "Protocol error: unbalanced quotes in request",
        b"*1\r\n:1\r\n": "Protocol error: expected '$', got ':'",
        b"*1\r\n+PING\r\n": "Protocol error: expected '$', got '+'",
    }
    for data, message in cases.items():
        _, err = parse_all([data])
        assert err is not None and str(err) == message, data


@pytest.mark.parametrize(
    "data",
    [
        b"*1\r\n*1\r\n+\r\n",
        b"*2\r\n$3\r\nGET\r\n*1\r\n+\r\n",
        b"*3\r\n$3\r\nGET\r\n+x\r\n*1\r\n$0\r\n\r\n",
        b"*2\r\n$4\r\nECHO\r\n%1\r\n+a\r\n+b\r\n",
    ],
)
def test_nested_element_as_long_as_a_bulk_string_is_a_protocol_error(data: bytes) -> None:
    """hiredis frames these, and their length equals a canonical frame's: the single-frame
    fast path must still hand them to the exact path, which words Redis's error."""
    frames, err = RequestParser().parse(data)
    assert frames == [] or frames[0][0] in (b"GET", b"ECHO")  # never a frame with a nested element
    assert all(type(a) is bytes for f in frames for a in f)
    assert err is not None and str(err).startswith("Protocol error: expected '$', got ")


def test_too_big_inline_request() -> None:
    _, err = parse_all([b"a" * (64 * 1024 + 10)])
    assert err is not None and str(err) == "Protocol error: too big inline request"


def test_frames_before_an_error_are_kept() -> None:
    frames, err = parse_all([b"*1\r\n$4\r\nPING\r\nPING\r\n*x\r\n"])
    assert frames == [[b"PING"], [b"PING"]]
    assert err is not None


def test_unauthenticated_limits() -> None:
    p = RequestParser()
    p.authenticated = False
    _, err = p.parse(b"*11\r\n")
    assert err is not None and str(err) == "Protocol error: unauthenticated multibulk length"
    p = RequestParser()
    p.authenticated = False
    _, err = p.parse(b"*1\r\n$16385\r\n")
    assert err is not None and str(err) == "Protocol error: unauthenticated bulk length"


def test_split_args_quoting() -> None:
    assert split_args(b'set "a b" c') == [b"set", b"a b", b"c"]
    assert split_args(b'"\\x41\\n\\t"') == [b"A\n\t"]
    assert split_args(b"'it\\'s'") == [b"it's"]
    assert split_args(b'"abc"def') is None
    assert split_args(b'"abc') is None
    assert split_args(b"   ") == []


@given(st.integers(-(2**63), 2**63 - 1))
def test_string2ll_roundtrip(n: int) -> None:
    assert string2ll(str(n).encode()) == n


def test_string2ll_rejects() -> None:
    for bad in (b"", b"+1", b" 1", b"1 ", b"01", b"-0", b"9223372036854775808", b"1.0", b"-"):
        assert string2ll(bad) is None, bad


def test_encode_resp2_and_resp3() -> None:
    assert encode(b"x") == b"$1\r\nx\r\n"
    assert encode(None) == b"$-1\r\n" and encode(None, 3) == b"_\r\n"
    assert encode(NULL_ARRAY) == b"*-1\r\n" and encode(NULL_ARRAY, 3) == b"_\r\n"
    assert encode(5) == b":5\r\n"
    assert encode(True) == b":1\r\n" and encode(True, 3) == b"#t\r\n"
    assert encode(1.5) == b"$3\r\n1.5\r\n" and encode(1.5, 3) == b",1.5\r\n"
    assert encode({b"a": 1}) == b"*2\r\n$1\r\na\r\n:1\r\n"
    assert encode({b"a": 1}, 3) == b"%1\r\n$1\r\na\r\n:1\r\n"
    assert encode(SetReply([b"a"]), 3) == b"~1\r\n$1\r\na\r\n"
    assert encode(PushReply([b"a"]), 3) == b">1\r\n$1\r\na\r\n"
    assert encode(Simple(b"OK")) == b"+OK\r\n"
    assert encode(ErrorReply(b"ERR x")) == b"-ERR x\r\n"
    assert encode(Verbatim(b"hi"), 3) == b"=6\r\ntxt:hi\r\n" and encode(Verbatim(b"hi")) == b"$2\r\nhi\r\n"
    assert encode(BigNumber(b"123"), 3) == b"(123\r\n"
    assert encode([b"a", [1, None]], 2) == b"*2\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n"


def test_format_double_as_redis_7_0() -> None:
    assert format_double(1.5) == b"1.5"
    assert format_double(0.1) == b"0.10000000000000001"
    assert format_double(math.inf) == b"inf" and format_double(-math.inf) == b"-inf"
    assert format_double(1e300) == b"1.0000000000000001e+300"
    assert format_double(3.0) == b"3"


@given(st.binary(max_size=60).filter(lambda b: b'"' not in b and b"'" not in b))
def test_unquoted_inline_split_is_a_whitespace_split(line: bytes) -> None:
    """The inline fast path (bytes.split) agrees with sdssplitargs when nothing is quoted."""
    assert split_args(line) == line.split()


@given(st.lists(st.binary(max_size=2000), min_size=1, max_size=7))
def test_encode_argv_equals_encode_command(argv: list[bytes]) -> None:
    from snakedis.protocol.resp import encode_argv

    assert encode_argv(argv) == encode_command(*argv)
    assert encode_argv([bytearray(a) for a in argv]) == encode_command(*argv)
