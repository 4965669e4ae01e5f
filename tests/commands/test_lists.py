"""List commands, differential against real Redis: every command, option and error reply."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ("l", "l2", "k", "d", "s", "h", "new", "nokey", "src", "dst", "q", "q2")


@pytest.fixture(autouse=True)
def _clean(diff):  # type: ignore[no-untyped-def]
    """Start from no list keys even where FLUSHALL is not available yet."""
    diff.both("DEL", *KEYS)
    yield


def run(d, script: str) -> None:  # type: ignore[no-untyped-def]
    """One command per line, words split on spaces; ``\\s`` stands for a space inside a word."""
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            d(*[w.replace("\\s", " ") for w in line.split(" ")])


def test_push_and_len(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        lpush l a b c
        lrange l 0 -1
        rpush l d e
        lrange l 0 -1
        llen l
        lpushx l x
        rpushx l y z
        lrange l 0 -1
        lpushx nokey a
        rpushx nokey a
        exists nokey
        set s v
        lpush s a
        rpush s a
        lpushx s a
        rpushx s a
        llen s
        llen nokey
        lpush l
        rpush
        lpushx l
        llen
        llen a b
        rpush l 1 -1 12345678901234567890 ""
        lrange l 0 -1
        """,
    )


def test_pop(diff, diff3) -> None:  # type: ignore[no-untyped-def]
    for d in (diff, diff3):
        d.both("DEL", "l", "s")
        run(
            d,
            """
            set s v
            rpush l a b c d e f
            lpop l
            rpop l
            lpop l 0
            lpop l 2
            rpop l 1
            rpop l 10
            exists l
            lpop l
            rpop l
            lpop l 0
            lpop l 3
            rpop l 3
            lpop l -1
            lpop l abc
            rpop l -1
            lpop s
            lpop s 0
            lpop s -1
            rpop s 2
            lpop l 1 2
            rpop l 1 2
            lpop
            """,
        )


def test_lmpop(diff, diff3) -> None:  # type: ignore[no-untyped-def]
    for d in (diff, diff3):
        d.both("DEL", "l", "l2", "s")
        run(
            d,
            """
            set s v
            rpush l a b c
            rpush l2 x y z
            lmpop 1 l left
            lmpop 2 nokey l right
            lmpop 2 l l2 left count 10
            lmpop 2 l l2 right count 2
            lmpop 1 l2 LEFT COUNT 1
            lmpop 2 l l2 left
            lmpop 0 l left
            lmpop -1 l left
            lmpop abc l left
            lmpop 1 l middle
            lmpop 1 l left count 0
            lmpop 1 l left count -1
            lmpop 1 l left count abc
            lmpop 1 l left count 1 count 2
            lmpop 1 l left count
            lmpop 2 l left
            lmpop 1 l left foo
            lmpop 100000000 l left
            lmpop 1 s left
            lmpop 2 nokey s left
            lmpop 2 s nokey left
            lmpop 1 nokey left
            lmpop 1 l
            """,
        )


def test_lrange(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        rpush l a b c d e f g
        lrange l 0 -1
        lrange l 0 0
        lrange l -3 -1
        lrange l -100 100
        lrange l 2 1
        lrange l 7 10
        lrange l 6 6
        lrange l -1 -2
        lrange l 9223372036854775807 9223372036854775807
        lrange l -9223372036854775808 -9223372036854775808
        lrange l -9223372036854775808 9223372036854775807
        lrange l 5 -3
        lrange l a 1
        lrange l 0 b
        lrange l 0 1.5
        set s v
        lrange s 0 1
        lrange s a 1
        lrange nokey 0 1
        lrange nokey a 1
        lrange l 0
        """,
    )


def test_lrange_long_list_both_ends(diff) -> None:  # type: ignore[no-untyped-def]
    diff("RPUSH", "l", *[str(i) for i in range(1000)])
    for start, end in ((0, 99), (-100, -1), (450, 560), (990, 2000), (-1000, 3), (0, -1)):
        diff("LRANGE", "l", start, end)


def test_lindex(diff, diff3) -> None:  # type: ignore[no-untyped-def]
    for d in (diff, diff3):
        d.both("DEL", "l", "s")
        run(
            d,
            """
            rpush l a b c
            lindex l 0
            lindex l 2
            lindex l 3
            lindex l -1
            lindex l -3
            lindex l -4
            lindex l abc
            lindex l 9223372036854775807
            lindex l -9223372036854775808
            lindex nokey 0
            lindex nokey abc
            set s v
            lindex s 0
            lindex s abc
            lindex l
            """,
        )


def test_lset(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        rpush l a b c
        lset l 0 x
        lset l -1 y
        lset l 1 12345
        lrange l 0 -1
        lset l 3 z
        lset l -4 z
        lset l abc z
        lset nokey 0 x
        lset nokey abc x
        set s v
        lset s 0 x
        lset s abc x
        lset l 0
        """,
    )


def test_linsert(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        rpush l a b c b
        linsert l before b B
        linsert l after b A
        linsert l AFTER c C
        linsert l BeFoRe a 0
        lrange l 0 -1
        linsert l before zz C
        linsert l middle c C
        linsert nokey before a b
        linsert nokey middle a b
        exists nokey
        set s v
        linsert s before a b
        linsert s middle a b
        linsert l before a
        """,
    )


def test_lrem(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        rpush l a b a c a b a
        lrem l 1 a
        lrange l 0 -1
        lrem l -2 a
        lrange l 0 -1
        lrem l 0 b
        lrange l 0 -1
        lrem l 5 zz
        lrem l 0 a
        lrem l 0 c
        exists l
        rpush l x x x
        lrem l 100 x
        exists l
        lrem l abc a
        lrem nokey abc a
        lrem nokey 1 a
        set s v
        lrem s abc a
        lrem s 1 a
        lrem l 1
        """,
    )


def test_ltrim(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        rpush l a b c d e f g
        ltrim l 1 -2
        lrange l 0 -1
        ltrim l -3 100
        lrange l 0 -1
        ltrim l 0 -1
        lrange l 0 -1
        ltrim l 1 1
        lrange l 0 -1
        ltrim l 5 1
        exists l
        rpush l a b c
        ltrim l -1 -2
        exists l
        rpush l a b c
        ltrim l 3 10
        exists l
        ltrim l a 1
        ltrim nokey a 1
        ltrim nokey 0 1
        set s v
        ltrim s a 1
        ltrim s 0 1
        ltrim l 0
        """,
    )


def test_ltrim_long(diff) -> None:  # type: ignore[no-untyped-def]
    for start, end in ((10, 20), (-5, -1), (0, 950), (3, -3)):
        diff.both("DEL", "l")
        diff("RPUSH", "l", *[str(i) for i in range(1000)])
        diff("LTRIM", "l", start, end)
        diff("LRANGE", "l", 0, -1)


def test_lpos(diff, diff3) -> None:  # type: ignore[no-untyped-def]
    for d in (diff, diff3):
        d.both("DEL", "l", "s")
        run(
            d,
            """
            set s v
            rpush l a b c a b c a
            lpos l a
            lpos l c
            lpos l z
            lpos l a rank 1
            lpos l a rank 2
            lpos l a rank 4
            lpos l a rank -1
            lpos l a rank -2
            lpos l a rank -4
            lpos l a rank -9223372036854775808
            lpos l a rank -9223372036854775808 count 1
            lpos l b rank 9223372036854775807
            lpos l a count 0
            lpos l a count 2
            lpos l a count 2 rank 2
            lpos l a count 2 rank -1
            lpos l a count 0 rank -2
            lpos l a count 2 rank -1 maxlen 4
            lpos l a count 2 rank 2 maxlen 4
            lpos l a count 0 rank -2 maxlen 5
            lpos l a maxlen 1
            lpos l a maxlen 0 count 0
            lpos l c maxlen 2
            lpos l c maxlen 2 count 0
            lpos l c rank -1 maxlen 1
            lpos l z count 0
            lpos l a RANK 1 RANK 2
            lpos l a rank 0
            lpos l a rank abc
            lpos l a count -1
            lpos l a count abc
            lpos l a maxlen -1
            lpos l a maxlen abc
            lpos l a foo
            lpos l a rank
            lpos l a rank 0 foo
            lpos l a foo rank 0
            lpos nokey a
            lpos nokey a count 0
            lpos nokey a rank 0
            lpos s a
            lpos s a rank 0
            lpos s a count 1
            lpos l
            """,
        )


def test_lmove_and_rpoplpush(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        set s v
        rpush src a b c d
        lmove src dst left right
        lmove src dst RIGHT LEFT
        lmove src dst right right
        lmove src dst left left
        lrange dst 0 -1
        exists src
        lmove src dst left right
        rpush src 1 2 3
        lmove src src left right
        lrange src 0 -1
        lmove src src right left
        lrange src 0 -1
        rpoplpush src dst
        rpoplpush src src
        lrange src 0 -1
        lrange dst 0 -1
        lmove src dst middle right
        lmove src dst left middle
        lmove nokey dst middle right
        lmove src s left right
        lmove s src left right
        lmove nokey s left right
        rpoplpush nokey s
        rpoplpush src s
        rpoplpush s src
        lrange src 0 -1
        rpush q only
        lmove q q left left
        lrange q 0 -1
        rpoplpush q q2
        exists q
        lrange q2 0 -1
        lmove src dst left
        rpoplpush src
        """,
    )


def test_blocking_commands_without_blocking(diff, diff3) -> None:  # type: ignore[no-untyped-def]
    """Blocking commands that find data, or time out quickly, and their argument errors."""
    for d in (diff, diff3):
        d.both("DEL", "l", "l2", "s", "k", "d")
        run(
            d,
            """
            set s v
            rpush l a b c d e
            blpop l 0
            brpop l 0
            blpop nokey l 0
            blpop nokey l2 0.01
            brpop nokey s 0.01
            blpop s nokey 0.01
            blpop l s 0.01
            blmpop 0 2 nokey l left count 2
            blmpop 0.01 1 l right
            exists l
            blmpop 0.01 1 l left
            rpush l a b c
            blmove l d left right 0
            brpoplpush l d 0
            blmove l d RIGHT LEFT 0
            lrange d 0 -1
            exists l
            blmove l d left right 0.01
            brpoplpush l d 0.01
            rpush l x
            blmove l s left right 0
            brpoplpush l s 0
            blmove s l left right 0
            blmove nokey s left right 0.01
            blmove nokey d left right abc
            blmove nokey d left middle abc
            blmove nokey d middle right -1
            brpoplpush nokey d abc
            blpop k -1
            blpop k abc
            blpop k 1e5000
            blpop k inf
            blpop k -inf
            blpop k infinity
            blpop k nan
            blpop k 9223372036854775807
            blpop k 1_0
            blpop k \\s1
            blpop k 1\\s
            blpop k +0.01
            blpop k .01
            blpop k 1e-2
            blpop k 0x0.1p-4
            blmpop 0.01 1 nokey left
            blmpop 0 0 nokey left
            blmpop -1 1 nokey left
            blmpop abc 1 nokey left
            blmpop 0 1 nokey middle
            blmpop 0 1 nokey left count 0
            blmpop 0 2 nokey left
            blpop k
            brpop
            blmove l d left right
            brpoplpush l d
            blmpop 0 1 l
            """,
        )


def test_commands_in_transaction(diff, diff3) -> None:  # type: ignore[no-untyped-def]
    if diff.snake.cmd("MULTI").startswith(b"-ERR unknown"):
        pytest.skip("MULTI not available yet")
    diff.snake.cmd("DISCARD")
    for d in (diff, diff3):
        d.both("DEL", "k", "d")
        run(
            d,
            """
            multi
            blpop k 0
            brpop k 0
            blmove k d left right 0
            brpoplpush k d 0
            blmpop 0 1 k left
            blmpop 0 1 k left count 2
            lmpop 1 k left
            blpop k -1
            exec
            rpush k 1 2 3 4 5
            multi
            blpop k 0
            brpop k 0
            blmove k d left right 0
            brpoplpush k d 0
            blmpop 0 1 k left count 2
            exec
            lrange d 0 -1
            """,
        )


def test_wrong_type_everywhere(diff) -> None:  # type: ignore[no-untyped-def]
    diff("SET", "s", "v")
    for cmd in (
        ("LLEN", "s"),
        ("LRANGE", "s", 0, -1),
        ("LINDEX", "s", 0),
        ("LPOS", "s", "a"),
        ("LSET", "s", 0, "x"),
        ("LINSERT", "s", "BEFORE", "a", "b"),
        ("LREM", "s", 0, "a"),
        ("LTRIM", "s", 0, 1),
        ("LPOP", "s"),
        ("RPOP", "s"),
        ("LMOVE", "s", "d", "LEFT", "LEFT"),
        ("RPOPLPUSH", "s", "d"),
        ("LMPOP", 1, "s", "LEFT"),
    ):
        diff(*cmd)


def test_binary_and_large_values(diff) -> None:  # type: ignore[no-untyped-def]
    big = "x" * 70000
    diff("RPUSH", "l", "a\r\nb", "\x00\x01", "", big, "12345678901234567890", "-0", "007")
    diff("LRANGE", "l", 0, -1)
    diff("LPOS", "l", "")
    diff("LPOS", "l", "a\r\nb")
    diff("LINSERT", "l", "AFTER", big, "after-big")
    diff("LREM", "l", 0, "")
    diff("LINDEX", "l", 2)
    diff("LSET", "l", 2, "small")
    diff("LRANGE", "l", 0, -1)
    diff("RPOP", "l", 3)
    diff("LPOP", "l")


ops = st.one_of(
    st.tuples(
        st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]),
        st.sampled_from(["l", "l2"]),
        st.lists(st.sampled_from(["a", "b", "1", "22"]), min_size=1, max_size=4),
    ),
    st.tuples(
        st.sampled_from(["LPOP", "RPOP"]), st.sampled_from(["l", "l2"]), st.sampled_from([[], ["0"], ["1"], ["3"]])
    ),
    st.tuples(
        st.just("LRANGE"),
        st.sampled_from(["l", "l2"]),
        st.tuples(st.integers(-6, 6), st.integers(-6, 6)).map(lambda t: [str(t[0]), str(t[1])]),
    ),
    st.tuples(
        st.just("LREM"),
        st.sampled_from(["l", "l2"]),
        st.tuples(st.integers(-3, 3), st.sampled_from(["a", "b"])).map(lambda t: [str(t[0]), t[1]]),
    ),
    st.tuples(
        st.just("LTRIM"),
        st.sampled_from(["l", "l2"]),
        st.tuples(st.integers(-6, 6), st.integers(-6, 6)).map(lambda t: [str(t[0]), str(t[1])]),
    ),
    st.tuples(
        st.just("LINSERT"),
        st.sampled_from(["l", "l2"]),
        st.tuples(st.sampled_from(["BEFORE", "AFTER"]), st.sampled_from(["a", "1"]), st.just("new")).map(list),
    ),
    st.tuples(
        st.just("LSET"),
        st.sampled_from(["l", "l2"]),
        st.tuples(st.integers(-4, 4), st.sampled_from(["x", "7"])).map(lambda t: [str(t[0]), t[1]]),
    ),
    st.tuples(st.just("LINDEX"), st.sampled_from(["l", "l2"]), st.integers(-4, 4).map(lambda i: [str(i)])),
    st.tuples(
        st.just("LPOS"),
        st.sampled_from(["l", "l2"]),
        st.sampled_from(
            [["a"], ["b", "RANK", "-1"], ["a", "COUNT", "0"], ["1", "RANK", "2", "COUNT", "2", "MAXLEN", "5"]]
        ),
    ),
    st.tuples(
        st.just("LMOVE"),
        st.sampled_from(["l", "l2"]),
        st.tuples(
            st.sampled_from(["l", "l2"]), st.sampled_from(["LEFT", "RIGHT"]), st.sampled_from(["LEFT", "RIGHT"])
        ).map(list),
    ),
    st.tuples(
        st.just("LMPOP"),
        st.just("2"),
        st.tuples(
            st.sampled_from(["l", "l2"]), st.sampled_from(["LEFT", "RIGHT"]), st.sampled_from(["1", "2", "5"])
        ).map(lambda t: [t[0], "l" if t[0] == "l2" else "l2", t[1], "COUNT", t[2]]),
    ),
    st.tuples(st.just("LLEN"), st.sampled_from(["l", "l2"]), st.just([])),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ops, min_size=1, max_size=25))
def test_random_operations_match(diff, sequence) -> None:  # type: ignore[no-untyped-def]
    diff.both("DEL", "l", "l2")
    for name, key, rest in sequence:
        diff(name, key, *rest)
    diff("LRANGE", "l", 0, -1)
    diff("LRANGE", "l2", 0, -1)


def test_keyspace_events(diff) -> None:  # type: ignore[no-untyped-def]
    """The exact sequence of keyspace and keyevent messages of every list write."""
    from rawclient import RawClient

    subs = []
    for c in (diff.real, diff.snake):
        if c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA").startswith(b"-"):
            pytest.skip("notify-keyspace-events not settable yet")
    try:
        for port in (diff.real.sock.getpeername()[1], diff.snake.sock.getpeername()[1]):
            s = RawClient(port)
            s.cmd("PSUBSCRIBE", "__key*__:*")
            subs.append(s)
        run(
            diff,
            """
            rpush l a b c d e f
            lpush l x
            lpushx l y
            rpushx l z
            lpushx nokey y
            lpop l
            rpop l 2
            lpop l 0
            lset l 0 new
            linsert l before new ins
            linsert l after zz ins
            lrem l 1 ins
            lrem l 0 zz
            ltrim l 0 2
            ltrim l 0 -1
            lmove l d left right
            rpoplpush l d
            lmove d d left right
            lmpop 2 nokey l right count 5
            rpush d p q r
            blpop d 0
            brpop d 0
            blmpop 0 1 d left
            rpush src 1
            blmove src dst left left 0
            brpoplpush dst src 0
            lrem src 0 1
            rpush l 1 2
            ltrim l 5 10
            set k marker
            """,
        )
        real, snake = subs
        messages: list[bytes] = []
        while not messages or b"marker" not in messages[-1] and b"__keyevent@0__:set" not in messages[-1]:
            m = real.read_reply()
            assert snake.read_reply() == m, messages
            messages.append(m)
            assert len(messages) < 200
        assert len(messages) > 40
    finally:
        for c in subs:
            c.close()
        for c in (diff.real, diff.snake):
            c.cmd("CONFIG", "SET", "notify-keyspace-events", "")


def test_object_encoding_follows_redis_72(snake) -> None:  # type: ignore[no-untyped-def]
    """listpack/quicklist by ``list-max-listpack-size`` with 7.2's shrink hysteresis (snakedis only:
    the 7.0 oracle always says quicklist)."""
    snake.cmd("DEL", "l")
    snake.cmd("RPUSH", "l", "a")
    if snake.cmd("OBJECT", "ENCODING", "l").startswith(b"-"):
        pytest.skip("OBJECT ENCODING not available yet")
    try:
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$8\r\nlistpack\r\n"
        snake.cmd("RPUSH", "l", "x" * 9000)
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$9\r\nquicklist\r\n"
        snake.cmd("RPOP", "l")
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$8\r\nlistpack\r\n"
        snake.cmd("CONFIG", "SET", "list-max-listpack-size", "4")
        snake.cmd("RPUSH", "l", "b", "c", "d")
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$8\r\nlistpack\r\n"
        snake.cmd("LINSERT", "l", "BEFORE", "nothere", "e")  # 7.2 converts before looking
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$9\r\nquicklist\r\n"
        snake.cmd("LPOP", "l")
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$9\r\nquicklist\r\n"  # 3 > 4 / 2
        snake.cmd("LTRIM", "l", 0, 1)
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$8\r\nlistpack\r\n"
        snake.cmd("DEL", "l")
        snake.cmd("RPUSH", "l", "1", "2", "3", "4", "5")
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$9\r\nquicklist\r\n"
        snake.cmd("LMOVE", "l", "l2", "LEFT", "LEFT")
        assert snake.cmd("OBJECT", "ENCODING", "l2") == b"$8\r\nlistpack\r\n"
    finally:
        snake.cmd("CONFIG", "SET", "list-max-listpack-size", "-2")
        snake.cmd("DEL", "l", "l2")


def test_long_list_size_accounting_resumes(snake) -> None:  # type: ignore[no-untyped-def]
    """A list pushed one element at a time past 32768 elements stops its listpack size
    accounting (Quicklist's docstring); popping back recounts it, so the conversion back to a
    listpack still happens at exactly 7.2's point: 7 + 3n <= 4096 bytes for 1-byte elements."""

    def chunked(commands: list[tuple[str, ...]]) -> list[bytes]:
        out: list[bytes] = []
        for i in range(0, len(commands), 2000):
            out += snake.pipeline(commands[i : i + 2000])
        return out

    snake.cmd("DEL", "l")
    try:
        assert chunked([("LPUSH", "l", "x")] * 40000)[-1] == b":40000\r\n"
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$9\r\nquicklist\r\n"
        chunked([("RPOP", "l")] * 20000)  # tracking stays off down to 16384 elements
        snake.cmd("LPOP", "l", 20000 - 1364)  # a count pop recounts: 1364 left
        snake.cmd("LPUSH", "l", "x")
        assert snake.cmd("LLEN", "l") == b":1365\r\n"
        assert chunked([("LPOP", "l"), ("OBJECT", "ENCODING", "l")] * 2) == [
            b"$1\r\nx\r\n",
            b"$9\r\nquicklist\r\n",
            b"$1\r\nx\r\n",
            b"$8\r\nlistpack\r\n",
        ]
        snake.cmd("DEL", "l")
        chunked([("RPUSH", "l", "x")] * 33000)
        chunked([("RPOP", "l")] * (33000 - 1364))  # single pops only, through the recount
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$9\r\nquicklist\r\n"
        snake.cmd("RPOP", "l")
        assert snake.cmd("OBJECT", "ENCODING", "l") == b"$8\r\nlistpack\r\n"
    finally:
        snake.cmd("DEL", "l")


TIMEOUTS = (
    "0 1 0.5 1e e5 --1 +-1 0x 0x1p 1.2.3 . -.5 5. 1E5 0X10 infinit INF +inf -infinity Infinity nan(123) 0x1P-2 "
    "1e-400 0.0000001 -0 +0 00 0x.8 1e308 1.7976931348623157e309 1e5000 0b1 1,5 0x1g 1d 1f 1L -0.0001 "
    "9223372036854775 9223372036854775807 -9223372036854775808"
).split()


def test_timeout_parsing(diff) -> None:  # type: ignore[no-untyped-def]
    """Every timeout spelling, inside MULTI so that valid ones return at once."""
    if diff.snake.cmd("MULTI").startswith(b"-ERR unknown"):
        pytest.skip("MULTI not available yet")
    diff.snake.cmd("DISCARD")
    diff("MULTI")
    for t in TIMEOUTS:
        diff("BLPOP", "k", t)
        diff("BLMPOP", t, 1, "k", "LEFT")
        diff("BLMOVE", "k", "d", "LEFT", "LEFT", t)
    diff("EXEC")
