"""RedisSet against a model: contents, encoding transitions, order, random access, scan."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from snakedis.db.set import HASHTABLE, INTSET, LISTPACK, RedisSet

CFG = {"set-max-intset-entries": 8, "set-max-listpack-entries": 6, "set-max-listpack-value": 5}

members = st.one_of(
    st.integers(-20, 20).map(lambda i: b"%d" % i),
    st.sampled_from([b"a", b"b", b"c", b"01", b"-0", b"", b"toolong"]),
)
ops = st.lists(st.tuples(st.booleans(), members), max_size=60)


def check_invariants(s: RedisSet) -> None:
    assert len(s.pos) == len(s.items)
    for i, m in enumerate(s.items):
        assert s.pos[m] == i
    if s.enc == INTSET:
        ints = [int(m) for m in s.items]
        assert ints == sorted(ints)
        assert all(b"%d" % v == m for v, m in zip(ints, s.items, strict=True))


@given(ops)
@settings(max_examples=300, deadline=None)
def test_against_model(operations):
    s = RedisSet.create(operations[0][1] if operations else b"1", 1, CFG)
    order: list[bytes] = []  # the order Redis iterates the members in, while not a hashtable
    enc_history = [s.enc]
    for add, m in operations:
        before = s.enc
        if add:
            assert s.add(m, CFG) == (m not in order)
            if m not in order:
                if s.enc == INTSET:
                    order = sorted([*order, m], key=int)
                else:
                    if before == INTSET:
                        order = sorted(order, key=int)
                    order.append(m)
        else:
            assert s.remove(m) == (m in order)
            if m in order:
                order.remove(m)
        check_invariants(s)
        assert set(s.items) == set(order)
        if s.enc != HASHTABLE:
            assert s.items == order
        enc_history.append(s.enc)
    # encodings only move forward
    assert enc_history == sorted(enc_history)


def test_encoding_transitions():
    s = RedisSet.create(b"1", 1, CFG)
    assert s.encoding() == b"intset"
    for i in range(8):
        s.add(b"%d" % (8 - i), CFG)
    assert s.encoding() == b"intset" and s.items == [b"%d" % i for i in range(1, 9)]
    s.add(b"9", CFG)
    assert s.encoding() == b"hashtable"
    t = RedisSet.create(b"5", 2, CFG)
    t.add(b"5", CFG)
    t.add(b"-3", CFG)
    t.add(b"x", CFG)
    assert t.encoding() == b"listpack" and t.items == [b"-3", b"5", b"x"]
    # an intset whose numbers are longer than the listpack value limit goes to hashtable
    u = RedisSet.create(b"123456", 1, CFG)
    u.add(b"123456", CFG)
    u.add(b"x", CFG)
    assert u.encoding() == b"hashtable"
    # a long member leaves the listpack
    v = RedisSet.create(b"x", 1, CFG)
    v.add(b"x", CFG)
    v.add(b"toolong", CFG)
    assert v.encoding() == b"hashtable"
    # too many members leave the listpack
    w = RedisSet.create(b"x", 1, CFG)
    for i in range(6):
        w.add(b"m%d" % i, CFG)
    assert w.encoding() == b"listpack"
    w.add(b"m6", CFG)
    assert w.encoding() == b"hashtable"
    # size hints choose the start encoding
    assert RedisSet.create(b"1", 8, CFG).enc == INTSET
    assert RedisSet.create(b"1", 9, CFG).enc == HASHTABLE
    assert RedisSet.create(b"a", 6, CFG).enc == LISTPACK
    assert RedisSet.create(b"a", 7, CFG).enc == HASHTABLE
    assert RedisSet.create(b"01", 1, CFG).enc == LISTPACK


def test_copy_is_independent():
    s = RedisSet.create(b"a", 1, CFG)
    s.add(b"a", CFG)
    c = s.copy()
    c.add(b"b", CFG)
    assert s.items == [b"a"] and c.items == [b"a", b"b"] and c.enc == s.enc


def test_pop_random_and_sampling():
    s = RedisSet(HASHTABLE)
    for i in range(100):
        s.add(b"m%d" % i, CFG)
    popped = {s.pop_random() for _ in range(40)}
    assert len(popped) == 40 and len(s) == 60 and not popped & set(s.items)
    check_invariants(s)
    for k in (1, 5, 19, 20, 30, 59):
        sample = s.sample_unique(k)
        assert len(sample) == len(set(sample)) == k and set(sample) <= set(s.items)


@given(st.integers(1, 50), st.lists(st.integers(0, 3), max_size=80))
@settings(max_examples=100, deadline=None)
def test_scan_guarantee(count, churn):
    s = RedisSet(HASHTABLE)
    stable = [b"s%d" % i for i in range(120)]
    for m in stable:
        s.add(m, CFG)
    extra = 0
    seen: set[bytes] = set()
    cursor = 0
    steps = 0
    while True:
        cursor, batch = s.scan(cursor, count)
        assert len(batch) <= count or cursor == 0
        seen.update(batch)
        op = churn[steps % len(churn)] if churn else 0
        if op == 1:
            s.add(b"x%d" % extra, CFG)
            extra += 1
        elif op == 2 and extra:
            s.remove(b"x%d" % (extra - 1))
        elif op == 3:
            s.add(b"y%d" % steps, CFG)
            s.remove(b"y%d" % steps)
        steps += 1
        if cursor == 0:
            break
        assert steps < 10_000
    assert set(stable) <= seen


def test_small_scan_returns_everything():
    s = RedisSet.create(b"1", 3, CFG)
    for m in (b"3", b"1", b"2"):
        s.add(m, CFG)
    assert s.scan(0, 1) == (0, [b"1", b"2", b"3"])


def test_maybe_convert_and_to_intset():
    s = RedisSet.create(b"a", 1, CFG)
    s.maybe_convert(6, CFG)
    assert s.enc == LISTPACK
    s.maybe_convert(7, CFG)
    assert s.enc == HASHTABLE
    t = RedisSet.create(b"1", 1, CFG)
    t.maybe_convert(9, CFG)
    assert t.enc == HASHTABLE
    u = RedisSet(LISTPACK)
    for m in (b"3", b"-1", b"2"):
        u.add(m, CFG)
    u.maybe_convert_to_intset(CFG)
    assert u.enc == INTSET and u.items == [b"-1", b"2", b"3"]
    check_invariants(u)
    v = RedisSet(LISTPACK)
    for m in (b"3", b"x"):
        v.add(m, CFG)
    v.maybe_convert_to_intset(CFG)
    assert v.enc == LISTPACK and v.items == [b"3", b"x"]
