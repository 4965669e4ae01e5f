"""The list value class: listpack sizes, Redis 7.2 encoding conversions, and the deque ops."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from snakedis.db.quicklist import (
    LP_HEADER_BYTES,
    Quicklist,
    decode,
    encode,
    entry_size,
    exceeds_limit,
    item_entry_size,
    node_limits,
)

# Listpack entry sizes checked against Redis 7.0 (DEBUG LISTPACK "total bytes" of a one-field
# hash, minus the header and the field).
ENTRY_SIZES = [
    (b"", 2),
    (b"0", 2),
    (b"127", 2),
    (b"128", 3),
    (b"-1", 3),
    (b"4095", 3),
    (b"4096", 4),
    (b"-4097", 4),
    (b"32768", 5),
    (b"-32769", 5),
    (b"8388608", 6),
    (b"-8388609", 6),
    (b"2147483648", 10),
    (b"9223372036854775807", 10),
    (b"9223372036854775808", 21),
    (b"01", 4),
    (b"-0", 4),
    (b"+1", 4),
    (b"1.5", 5),
    (b"a" * 63, 65),
    (b"a" * 64, 67),
    (b"a" * 125, 128),
    (b"a" * 126, 130),
    (b"a" * 4095, 4099),
    (b"a" * 4096, 4103),
    (b"a" * 20000, 20008),
]


def test_entry_sizes_match_redis() -> None:
    for value, size in ENTRY_SIZES:
        assert entry_size(value) == size, value[:20]
        assert item_entry_size(encode(value)) == size, value[:20]


def test_encode_decode() -> None:
    for value in (b"", b"x", b"a\r\nb", b"1" * 5000):
        item = encode(value)
        assert item == b"$%d\r\n%b\r\n" % (len(value), value)
        assert decode(item) == value


def test_limits() -> None:
    assert node_limits(-1)[0] == 4096
    assert node_limits(-2)[0] == 8192
    assert node_limits(-5)[0] == 65536
    assert node_limits(-100)[0] == 65536
    assert node_limits(0)[1] == 1
    assert node_limits(7)[1] == 7
    assert exceeds_limit(-2, 8193, 1)
    assert not exceeds_limit(-2, 8192, 100000)
    assert exceeds_limit(4, 100, 5)
    assert not exceeds_limit(4, 100, 4)
    assert exceeds_limit(1000, 8193, 2)  # the 8 kB safety limit of count-based fill


def test_count_based_conversion_and_back() -> None:
    ql = Quicklist()
    ql.push_tail([b"a", b"b", b"c", b"d"], 4)
    assert ql.packed
    ql.push_tail([b"e"], 4)
    assert not ql.packed
    ql.pop_tail()
    ql.shrink_check(4)
    assert not ql.packed  # 4 > 4 // 2
    ql.pop_tail()
    ql.shrink_check(4)
    assert not ql.packed
    ql.pop_tail()
    ql.shrink_check(4)
    assert ql.packed  # 2 <= 2
    assert ql.values() == [b"a", b"b"]


def test_size_based_conversion_uses_raw_argument_lengths() -> None:
    ql = Quicklist()
    ql.push_tail([b"x" * 8000], -2)
    assert ql.packed
    assert ql.lp_bytes == LP_HEADER_BYTES + entry_size(b"x" * 8000)
    # 8014 + 178 = 8192: still fits by Redis's estimate, although the entry takes 182 bytes.
    ql.push_tail([b"y" * 178], -2)
    assert ql.lp_bytes == 8196
    assert ql.packed
    ql.push_tail([b"z"], -2)
    assert not ql.packed
    ql.pop_head()
    ql.shrink_check(-2)
    assert ql.packed  # well under 4096 bytes


def test_new_list_with_big_element_is_quicklist() -> None:
    ql = Quicklist()
    ql.push_head([b"x" * 9000], -2)
    assert not ql.packed
    assert ql.encoding(None) == b"quicklist"  # type: ignore[arg-type]


def test_push_item_counts_integers_as_zero_bytes() -> None:
    ql = Quicklist()
    ql.push_tail([b"x" * 8100], -2)
    before = ql.lp_bytes
    ql.push_item(encode(b"123456"), False, -2)  # an integer: 0 bytes in 7.2's estimate
    assert ql.packed
    assert ql.lp_bytes == before + entry_size(b"123456")
    ql.push_item(encode(b"abcdefghijklmnopqrstuvwxyz" * 4), True, -2)
    assert not ql.packed


def test_from_values_and_copy() -> None:
    ql = Quicklist.from_values([b"1", b"two", b"3"], -2)
    assert ql.packed
    assert list(ql) == [b"1", b"two", b"3"]
    assert ql.lp_bytes == LP_HEADER_BYTES + 2 + 5 + 2
    cp = ql.copy()
    cp.pop_head()
    assert len(ql) == 3 and len(cp) == 2
    assert Quicklist.from_values([b"a"] * 200, 100).packed is False


def _model_bytes(values: list[bytes]) -> int:
    return LP_HEADER_BYTES + sum(entry_size(v) for v in values)


values_st = st.lists(st.sampled_from([b"a", b"b", b"1", b"-5", b"300", b"xyz" * 30]), max_size=40)


@settings(max_examples=200, deadline=None)
@given(values_st, st.integers(0, 45), st.integers(0, 45))
def test_trim_matches_model(values: list[bytes], left: int, right: int) -> None:
    ql = Quicklist.from_values(values)
    ql.trim(left, right)
    expected = values[left : max(left, len(values) - right)] if left + right < len(values) else []
    assert ql.values() == expected
    assert ql.lp_bytes == _model_bytes(expected)


@settings(max_examples=200, deadline=None)
@given(values_st, st.sampled_from([b"a", b"1", b"zz"]), st.integers(-5, 5))
def test_remove_matches_model(values: list[bytes], target: bytes, count: int) -> None:
    ql = Quicklist.from_values(values)
    removed = ql.remove(target, count)
    model = list(values)
    want = model.count(target) if count == 0 else min(abs(count), model.count(target))
    order = range(len(model)) if count >= 0 else range(len(model) - 1, -1, -1)
    drop = set()
    for i in order:
        if len(drop) == want:
            break
        if model[i] == target:
            drop.add(i)
    expected = [v for i, v in enumerate(model) if i not in drop]
    assert removed == want
    assert ql.values() == expected
    assert ql.lp_bytes == _model_bytes(expected)


@settings(max_examples=200, deadline=None)
@given(values_st, st.integers(0, 45), st.integers(0, 45))
def test_range_matches_model(values: list[bytes], start: int, length: int) -> None:
    ql = Quicklist.from_values(values)
    if not values:
        return
    start = min(start, len(values) - 1)
    end = min(start + length, len(values) - 1)
    assert [decode(i) for i in ql.range(start, end)] == values[start : end + 1]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["lpush", "rpush", "lpop", "rpop", "set", "insert"]), st.binary(max_size=70)))
)
def test_sizes_tracked_through_operations(ops: list[tuple[str, bytes]]) -> None:
    ql = Quicklist()
    model: list[bytes] = []
    for op, value in ops:
        if op == "lpush":
            ql.push_head([value], -2)
            model.insert(0, value)
        elif op == "rpush":
            ql.push_tail([value], -2)
            model.append(value)
        elif op == "lpop" and model:
            assert decode(ql.pop_head()) == model.pop(0)
        elif op == "rpop" and model:
            assert decode(ql.pop_tail()) == model.pop()
        elif op == "set" and model:
            ql.set_at(len(model) // 2, value)
            model[len(model) // 2] = value
        elif op == "insert":
            ql.insert_at(len(model) // 2, value)
            model.insert(len(model) // 2, value)
        assert ql.lp_bytes == _model_bytes(model)
    assert ql.values() == model


def test_untracked_size_is_recounted_by_shrink_check() -> None:
    """``packed`` None (a long list whose size is not kept): shrink_check leaves it alone while
    it is long, then recounts the exact size and converts as a tracked list would."""
    ql = Quicklist.from_values([b"x"] * 20000)
    assert ql.packed is False
    ql.packed = None
    ql.lp_bytes = -12345  # stale: nothing may read it
    ql.shrink_check(-2)
    assert ql.packed is None
    assert ql.encoding(None) == b"quicklist"  # type: ignore[arg-type]
    for _ in range(20000 - 16384):
        ql.items.pop()
    ql.shrink_check(-2)
    assert ql.packed is False
    assert ql.lp_bytes == _model_bytes([b"x"] * 16384)
    ql.trim(0, 16384 - 1363)
    ql.shrink_check(-2)
    assert ql.packed is True
    assert ql.lp_bytes == _model_bytes([b"x"] * 1363) == 4096
