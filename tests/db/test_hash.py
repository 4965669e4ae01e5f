"""RedisHash against a model: contents, listpack order, conversion, TTL bookkeeping, scan."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from snakedis.db.hash import RedisHash

CFG = {"hash-max-listpack-entries": 5, "hash-max-listpack-value": 4}

fields = st.sampled_from([b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"", b"long-field"])
values = st.sampled_from([b"1", b"", b"vv", b"long-value"])
ops = st.lists(st.tuples(st.sampled_from(["set", "del", "ttl", "persist"]), fields, values), max_size=60)


def check_invariants(h: RedisHash) -> None:
    assert len(h.keys) == len(h.vals) == len(h.pos)
    for i, f in enumerate(h.keys):
        assert h.pos[f] == i
    if h.ttls:
        assert set(h.ttls) <= set(h.pos)


@given(ops)
@settings(max_examples=300, deadline=None)
def test_against_model(operations):
    h = RedisHash()
    model: dict[bytes, bytes] = {}  # insertion-ordered, like a listpack
    ttl_model: dict[bytes, int] = {}
    was_ht = False
    for op, f, v in operations:
        if op == "set":
            assert h.set(f, v, CFG) == (f not in model)
            model[f] = v
            ttl_model.pop(f, None)
        elif op == "del":
            assert h.delete(f) == (f in model)
            model.pop(f, None)
            ttl_model.pop(f, None)
        elif op == "ttl" and f in model:
            h.set_ttl(f, 1000 + len(v))
            ttl_model[f] = 1000 + len(v)
        elif op == "persist":
            assert h.persist(f) == (f in ttl_model)
            ttl_model.pop(f, None)
        check_invariants(h)
        assert dict(h.items()) == model
        assert (h.ttls or {}) == ttl_model
        for name in model:
            assert h.get(name) == model[name]
        if not h.ht:
            assert list(h.items()) == list(model.items())
            assert len(model) <= 5 and all(len(x) <= 4 for kv in model.items() for x in kv)
        else:
            was_ht = True
        assert h.ht == was_ht  # never back
        assert h.min_ttl() == (min(ttl_model.values()) if ttl_model else 0)


def test_conversion_rules():
    h = RedisHash()
    for i in range(5):
        h.set(b"f%d" % i, b"v", CFG)
    assert h.encoding() == b"listpack"
    h.set(b"f0", b"vvvv", CFG)
    assert h.encoding() == b"listpack"
    h.set(b"f0", b"vvvvv", CFG)
    assert h.encoding() == b"hashtable"
    g = RedisHash()
    for i in range(6):
        g.set(b"f%d" % i, b"v", CFG)
    assert g.encoding() == b"hashtable"
    k = RedisHash()
    k.check_conversion([b"HSET", b"k", b"a", b"1", b"b", b"xxxxx"], 2, CFG)
    assert k.ht
    m = RedisHash()
    m.check_conversion([b"HSET", b"k"] + [b"same", b"v"] * 6, 2, CFG)
    assert m.ht
    n = RedisHash()
    n.ex = True
    assert n.encoding() == b"listpackex"
    n.ht = True
    assert n.encoding() == b"hashtable"


def test_ttl_helpers_and_copy():
    h = RedisHash()
    for f in (b"a", b"b", b"c"):
        h.set(f, b"v", CFG)
    h.set_ttl(b"a", 100)
    h.set_ttl(b"b", 300)
    assert h.expired_fields(200) == [b"a"]
    assert h.live_items(200) == [(b"b", b"v"), (b"c", b"v")]
    assert h.live_items(100) == [(b"a", b"v"), (b"b", b"v"), (b"c", b"v")]
    c = h.copy()
    c.set_ttl(b"c", 5)
    h.set(b"a", b"new", CFG)  # drops the TTL
    assert h.ttl_of(b"a") is None and c.ttl_of(b"a") == 100 and h.ttl_of(b"c") is None
    h.set_ttl(b"b", 7)
    h.set(b"b", b"kept", CFG, keep_ttl=True)
    assert h.ttl_of(b"b") == 7


@given(st.integers(1, 40), st.lists(st.integers(0, 2), max_size=60))
@settings(max_examples=100, deadline=None)
def test_scan_guarantee(count, churn):
    h = RedisHash()
    stable = [b"s%d" % i for i in range(100)]
    for f in stable:
        h.set(f, b"v", CFG)
    assert h.ht
    seen: set[bytes] = set()
    cursor = 0
    extra = 0
    steps = 0
    while True:
        cursor, idx = h.scan(cursor, count)
        seen.update(h.keys[i] for i in idx)
        op = churn[steps % len(churn)] if churn else 0
        if op == 1:
            h.set(b"x%d" % extra, b"v", CFG)
            extra += 1
        elif op == 2 and extra:
            h.delete(b"x%d" % (extra - 1))
        steps += 1
        if cursor == 0:
            break
        assert steps < 10_000
    assert set(stable) <= seen


def test_small_scan_returns_everything():
    h = RedisHash()
    h.set(b"b", b"1", CFG)
    h.set(b"a", b"2", CFG)
    assert h.scan(0, 1) == (0, range(2))
