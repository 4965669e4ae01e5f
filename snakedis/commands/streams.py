"""Stream commands (Redis 7.0's ``t_stream.c``): XADD ... XINFO, consumer groups, blocking reads.

Invariants:

* Values are ``db.stream.Stream``; IDs are ints (``ms << 64 | seq``) parsed with Redis's rules
  (``streamGenericParseIDOrReply``: ``string2ull`` per part, ``-``/``+`` unless strict,
  ``<ms>-*`` only in XADD) and replied as ``<ms>-<seq>`` bulk strings.
* Writes follow Redis's order: data, ``signal_modified_key``, the ``t`` keyspace event with
  Redis's name, ``dirty``.  What is replicated is what Redis 7.0 propagates: XADD with the
  generated ID and exact trim arguments, XREADGROUP/XCLAIM/XAUTOCLAIM as ``XCLAIM ... TIME
  RETRYCOUNT FORCE JUSTID LASTID`` plus ``XGROUP SETID``/``CREATECONSUMER`` (never the
  command itself), through ``client.propagate_override``.
* Blocking XREAD/XREADGROUP park on ``server.blocking``; XADD (and XGROUP DESTROY, to fail
  blocked group readers with NOGROUP) signal the key ready.  In MULTI or scripts they
  answer as a timeout at once.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import parse_int
from snakedis.commands.strings import lookup_read
from snakedis.commands.table import CommandGroup
from snakedis.db.stream import (
    INVALID_ENTRIES_READ,
    MAX_ID,
    NACK,
    U64,
    Consumer,
    Group,
    Stream,
    format_id,
)
from snakedis.protocol.errors import SYNTAX, WRONGTYPE, CommandError, wrong_arity
from snakedis.protocol.resp import NULL_ARRAY, OK, ErrorReply, Raw, Simple, encode, string2ll
from snakedis.server.blocking import block_client, parse_timeout_ms
from snakedis.server.core import NOTIFY_STREAM

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("stream")
command = GROUP.command

INVALID_ID: Final = "ERR Invalid stream ID specified as stream command argument"
_SPACES: Final = b" \t\n\v\f\r"
XREAD_BLOCKED_DEFAULT_COUNT: Final = 1000


# --------------------------------------------------------------------------- ID parsing


def _string2ull(s: bytes) -> int | None:
    """Redis's ``string2ull``: ``string2ll`` (non-negative) or else C's ``strtoull``."""
    v = string2ll(s)
    if v is not None:
        return v if v >= 0 else None
    n = len(s)
    i = 0
    while i < n and s[i] in _SPACES:
        i += 1
    neg = False
    if i < n and s[i] in b"+-":
        neg = s[i] == 45
        i += 1
    j = i
    while j < n and 48 <= s[j] <= 57:
        j += 1
    if j == i or j != n:
        return None
    v = int(s[i:j])
    if v > U64:
        return None
    return (-v) & U64 if neg else v


def parse_id(arg: bytes, missing_seq: int = 0, strict: bool = False, star: bool = False) -> tuple[int, bool]:
    """(id, seq_given) per ``streamGenericParseIDOrReply``."""
    if len(arg) > 127:
        raise CommandError(INVALID_ID)
    if arg == b"-" or arg == b"+":
        if strict:
            raise CommandError(INVALID_ID)
        return (0 if arg == b"-" else MAX_ID), True
    nul = arg.find(b"\0")
    if nul >= 0:
        arg = arg[:nul]
    dot = arg.find(b"-")
    ms = _string2ull(arg if dot < 0 else arg[:dot])
    if ms is None:
        raise CommandError(INVALID_ID)
    if dot < 0:
        return (ms << 64) | missing_seq, True
    tail = arg[dot + 1 :]
    if star and tail == b"*":
        return ms << 64, False
    seq = _string2ull(tail)
    if seq is None:
        raise CommandError(INVALID_ID)
    return (ms << 64) | seq, True


def parse_strict(arg: bytes, missing_seq: int = 0) -> int:
    return parse_id(arg, missing_seq, strict=True)[0]


def parse_interval(arg: bytes, missing_seq: int) -> tuple[int, bool]:
    """``streamParseIntervalIDOrReply``: (id, exclusive)."""
    if len(arg) > 1 and arg[:1] == b"(":
        return parse_id(arg[1:], missing_seq, strict=True)[0], True
    return parse_id(arg, missing_seq)[0], False


def _incr(sid: int) -> int | None:
    return None if sid == MAX_ID else sid + 1


def _decr(sid: int) -> int | None:
    return None if sid == 0 else sid - 1


# --------------------------------------------------------------------------- helpers


def _get_stream(value: Any) -> Stream | None:
    if value is None:
        return None
    if type(value) is not Stream:
        raise CommandError(WRONGTYPE)
    return value  # type: ignore[no-any-return]


def _read(client: Client, key: bytes) -> Stream | None:
    return _get_stream(lookup_read(client, key))


def _write(client: Client, key: bytes) -> Stream | None:
    return _get_stream(client.db.lookup(key))


def _entries(pairs: list[tuple[int, list[bytes]]]) -> list[Any]:
    return [[format_id(sid), flat] for sid, flat in pairs]


def _nogroup(key: bytes, group: bytes) -> CommandError:
    return CommandError(b"NOGROUP No such key '%s' or consumer group '%s'" % (key, group))


def _node_limits(client: Client) -> tuple[int, int]:
    cfg = client.server.config
    return cfg["stream-node-max-bytes"], cfg["stream-node-max-entries"]


def _create_consumer(client: Client, group: Group, name: bytes, key: bytes, db_id: int) -> Consumer:
    """``streamCreateConsumer`` with SCC_DEFAULT: dirty and the keyspace event."""
    server = client.server
    consumer = Consumer(name, server.cmd_time_ms)
    group.consumers[name] = consumer
    server.dirty += 1
    server.notify(NOTIFY_STREAM, "xgroup-createconsumer", key, db_id)
    return consumer


def _lookup_consumer(client: Client, group: Group, name: bytes, refresh: bool = True) -> Consumer | None:
    consumer = group.consumers.get(name)
    if consumer is not None and refresh:
        consumer.seen_time = client.server.cmd_time_ms
    return consumer


def _xclaim_argv(key: bytes, gname: bytes, group: Group, sid: bytes, nack: NACK) -> list[bytes]:
    assert nack.consumer is not None
    return [
        b"XCLAIM", key, gname, nack.consumer.name, b"0", sid, b"TIME", b"%d" % nack.delivery_time,
        b"RETRYCOUNT", b"%d" % nack.delivery_count, b"FORCE", b"JUSTID", b"LASTID", format_id(group.last_id),
    ]  # fmt: skip


def _setid_argv(key: bytes, gname: bytes, group: Group) -> list[bytes]:
    return [b"XGROUP", b"SETID", key, gname, format_id(group.last_id), b"ENTRIESREAD", b"%d" % group.entries_read]


# --------------------------------------------------------------------------- XADD / XTRIM


class _TrimArgs:
    __slots__ = (
        "strategy",
        "maxlen",
        "minid",
        "approx",
        "limit",
        "arg_idx",
        "id",
        "id_given",
        "seq_given",
        "nomkstream",
    )

    def __init__(self) -> None:
        self.strategy = 0  # 0 none, 1 maxlen, 2 minid
        self.maxlen = -1
        self.minid = 0
        self.approx = False
        self.limit = 0
        self.arg_idx = 0
        self.id = 0
        self.id_given = False
        self.seq_given = True
        self.nomkstream = False


def _parse_add_trim(client: Client, args: list[bytes], xadd: bool) -> tuple[_TrimArgs, int]:
    """``streamParseAddOrTrimArgsOrReply``: the options and the ID position (XADD)."""
    t = _TrimArgs()
    argc = len(args)
    limit_given = False
    i = 2
    while i < argc:
        more = argc - 1 - i
        opt = args[i].lower()
        if xadd and args[i] == b"*":
            break
        if (opt == b"maxlen" or opt == b"minid") and more:
            if t.strategy:
                raise CommandError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
            t.approx = False
            nxt = args[i + 1]
            if more >= 2 and nxt == b"~":
                t.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            if opt == b"maxlen":
                t.maxlen = parse_int(args[i + 1])
                if t.maxlen < 0:
                    raise CommandError("ERR The MAXLEN argument must be >= 0.")
                t.strategy = 1
            else:
                t.minid = parse_strict(args[i + 1])
                t.strategy = 2
            i += 1
            t.arg_idx = i
        elif opt == b"limit" and more:
            t.limit = parse_int(args[i + 1])
            if t.limit < 0:
                raise CommandError("ERR The LIMIT argument must be >= 0.")
            limit_given = True
            i += 1
        elif xadd and opt == b"nomkstream":
            t.nomkstream = True
        elif xadd:
            t.id, t.seq_given = parse_id(args[i], 0, strict=True, star=True)
            t.id_given = True
            break
        else:
            raise CommandError(SYNTAX)
        i += 1
    if t.limit and not t.strategy:
        raise CommandError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    if not xadd and not t.strategy:
        raise CommandError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if client.is_master:
        t.limit = 0
    elif limit_given:
        if not t.approx:
            raise CommandError("ERR syntax error, LIMIT cannot be used without the special ~ option")
    elif t.approx:
        t.limit = 100 * client.server.config["stream-node-max-entries"]
        if t.limit <= 0 or t.limit > 1000000:
            t.limit = 10000 if t.limit <= 0 else 1000000
    else:
        t.limit = 0
    return t, i


def _trim(s: Stream, t: _TrimArgs) -> int:
    if t.strategy == 1:
        return s.trim(t.maxlen, None, t.approx, t.limit)
    return s.trim(0, t.minid, t.approx, t.limit)


def _rewrite_trim(argv: list[bytes], s: Stream, t: _TrimArgs) -> None:
    argv[t.arg_idx - 1] = b"="
    argv[t.arg_idx] = b"%d" % len(s) if t.strategy == 1 else format_id(s.edge_id_any())


@command("xadd", -5, "write denyoom fast", 1, 1, 1, "@stream")
def xadd(client: Client, args: list[bytes]) -> Any:
    """XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value
    [field value ...] -> bulk: the added entry's ID (nil with NOMKSTREAM and no key)."""
    t, idpos = _parse_add_trim(client, args, True)
    field_pos = idpos + 1
    nvals = len(args) - field_pos
    if nvals < 2 or nvals % 2 == 1:
        raise wrong_arity("xadd")
    if t.id_given and t.seq_given and t.id == 0:
        raise CommandError("ERR The ID specified in XADD must be greater than 0-0")
    db = client.db
    key = args[1]
    server = client.server
    s = _write(client, key)
    if s is None:
        if t.nomkstream:
            return None
        s = Stream()
        db.set(key, s)
    if s.last_id == MAX_ID:
        raise CommandError("ERR The stream has exhausted the last possible ID, unable to add more items")
    last = s.last_id
    if t.id_given:
        if t.seq_given:
            sid = t.id
        elif last >> 64 == t.id >> 64:
            if last & U64 == U64:
                # Redis 7.0 leaves errno unset on this path and reports the size error.
                raise CommandError("ERR Elements are too large to be stored")
            sid = last + 1
        else:
            sid = t.id
    else:
        ms = server.cmd_time_ms
        sid = ms << 64 if ms > last >> 64 else last + 1
    if sid <= last:
        raise CommandError("ERR The ID specified in XADD is equal or smaller than the target stream top item")
    flat = args[field_pos:]
    if sum(map(len, flat)) > (1 << 30):
        raise CommandError("ERR Elements are too large to be stored")
    max_bytes, max_entries = _node_limits(client)
    s.append(sid, flat, max_bytes, max_entries)
    reply = format_id(sid)
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_STREAM, "xadd", key, db.id)
    server.dirty += 1
    argv: list[bytes] | None = None
    if t.strategy:
        if _trim(s, t):
            server.notify(NOTIFY_STREAM, "xtrim", key, db.id)
        if t.approx:
            argv = list(args)
            _rewrite_trim(argv, s, t)
    if not t.id_given or not t.seq_given:
        if argv is None:
            argv = list(args)
        argv[idpos] = reply
    if argv is not None:
        client.propagate_override = [argv]
    server.signal_key_as_ready(db, key)
    return reply


@command("xtrim", -4, "write", 1, 1, 1, "@stream")
def xtrim(client: Client, args: list[bytes]) -> Any:
    """XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] -> integer: entries removed."""
    t, _ = _parse_add_trim(client, args, False)
    key = args[1]
    s = _write(client, key)
    if s is None:
        return 0
    deleted = _trim(s, t)
    if deleted:
        server = client.server
        db = client.db
        server.notify(NOTIFY_STREAM, "xtrim", key, db.id)
        if t.approx:
            argv = list(args)
            _rewrite_trim(argv, s, t)
            client.propagate_override = [argv]
        server.signal_modified_key(db, key)
        server.dirty += deleted
    return deleted


@command("xlen", 2, "readonly fast", 1, 1, 1, "@stream")
def xlen(client: Client, args: list[bytes]) -> Any:
    """XLEN key -> integer: the number of entries."""
    s = _read(client, args[1])
    return 0 if s is None else len(s)


def _xrange(client: Client, args: list[bytes], rev: bool) -> Any:
    start_arg, end_arg = (args[3], args[2]) if rev else (args[2], args[3])
    start, ex = parse_interval(start_arg, 0)
    if ex:
        nxt = _incr(start)
        if nxt is None:
            raise CommandError("ERR invalid start ID for the interval")
        start = nxt
    end, ex = parse_interval(end_arg, U64)
    if ex:
        prev = _decr(end)
        if prev is None:
            raise CommandError("ERR invalid end ID for the interval")
        end = prev
    count = -1
    j = 4
    while j < len(args):
        if args[j].lower() == b"count" and j + 1 < len(args):
            count = parse_int(args[j + 1])
            if count < 0:
                count = 0
            j += 2
        else:
            raise CommandError(SYNTAX)
    s = _read(client, args[1])
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return _entries(s.range(start, end, max(count, 0), rev))


@command("xrange", -4, "readonly", 1, 1, 1, "@stream")
def xrange(client: Client, args: list[bytes]) -> Any:
    """XRANGE key start end [COUNT count] -> array of [id, [field, value ...]]."""
    return _xrange(client, args, False)


@command("xrevrange", -4, "readonly", 1, 1, 1, "@stream")
def xrevrange(client: Client, args: list[bytes]) -> Any:
    """XREVRANGE key end start [COUNT count] -> array of [id, [field, value ...]], newest first."""
    return _xrange(client, args, True)


@command("xdel", -3, "write fast", 1, 1, 1, "@stream")
def xdel(client: Client, args: list[bytes]) -> Any:
    """XDEL key id [id ...] -> integer: entries deleted."""
    key = args[1]
    s = _write(client, key)
    if s is None:
        return 0
    ids = [parse_strict(a) for a in args[2:]]
    deleted = 0
    first_entry = False
    for sid in ids:
        if s.delete(sid):
            if sid == s.first_id:
                first_entry = True
            if sid > s.max_deleted_id:
                s.max_deleted_id = sid
            deleted += 1
    if deleted:
        if not s.ids:
            s.first_id = 0
        elif first_entry:
            s.first_id = s.ids[0]
        server = client.server
        db = client.db
        server.signal_modified_key(db, key)
        server.notify(NOTIFY_STREAM, "xdel", key, db.id)
        server.dirty += deleted
    return deleted


@command("xsetid", -3, "write denyoom fast", 1, 1, 1, "@stream")
def xsetid(client: Client, args: list[bytes]) -> Any:
    """XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] -> OK."""
    sid = parse_strict(args[2])
    entries_added = -1
    max_xdel = 0
    i = 3
    argc = len(args)
    while i < argc:
        more = argc - 1 - i
        opt = args[i].lower()
        if opt == b"entriesadded" and more:
            entries_added = parse_int(args[i + 1])
            if entries_added < 0:
                raise CommandError("ERR entries_added must be positive")
        elif opt == b"maxdeletedid" and more:
            max_xdel = parse_strict(args[i + 1])
            if sid < max_xdel:
                raise CommandError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
        else:
            raise CommandError(SYNTAX)
        i += 2
    key = args[1]
    s = _write(client, key)
    if s is None:
        raise CommandError("ERR no such key")
    if s.ids:
        if sid < s.ids[-1]:
            raise CommandError("ERR The ID specified in XSETID is smaller than the target stream top item")
        if entries_added != -1 and len(s.ids) > entries_added:
            raise CommandError("ERR The entries_added specified in XSETID is smaller than the target stream length")
    s.last_id = sid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel:
        s.max_deleted_id = max_xdel
    server = client.server
    db = client.db
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_STREAM, "xsetid", key, db.id)
    server.dirty += 1
    return OK


# --------------------------------------------------------------------------- XREAD / XREADGROUP


def _deliver(
    client: Client,
    s: Stream,
    key: bytes,
    start: int,
    count: int,
    group: Group | None,
    consumer: Consumer | None,
    gname: bytes,
    noack: bool,
    props: list[list[bytes]] | None,
) -> list[Any]:
    """``streamReplyWithRange`` from ``start`` (inclusive), updating the group when given."""
    pairs = s.range(start, MAX_ID, count)
    if group is None:
        return _entries(pairs)
    out: list[Any] = []
    now = client.server.cmd_time_ms
    propagate_last_id = False
    for sid, flat in pairs:
        if sid > group.last_id:
            if group.entries_read != INVALID_ENTRIES_READ and not s.has_tombstones_after(sid):
                group.entries_read += 1
            elif s.entries_added:
                group.entries_read = s.estimate_distance(sid)
            group.last_id = sid
            if noack:
                propagate_last_id = True
        idtext = format_id(sid)
        out.append([idtext, flat])
        if not noack:
            assert consumer is not None
            nack = group.pel.get(sid)
            if nack is None:
                nack = NACK(consumer, now)
                group.pel[sid] = nack
                consumer.pel[sid] = nack
            else:
                old = nack.consumer
                if old is not None:
                    old.pel.pop(sid, None)
                nack.consumer = consumer
                nack.delivery_time = now
                nack.delivery_count = 1
                consumer.pel[sid] = nack
            if props is not None:
                props.append(_xclaim_argv(key, gname, group, idtext, nack))
    if props is not None and propagate_last_id:
        props.append(_setid_argv(key, gname, group))
    return out


def _history(client: Client, s: Stream, start: int, count: int, consumer: Consumer) -> list[Any]:
    """``streamReplyWithRangeFromConsumerPEL``: the consumer's own pending entries."""
    out: list[Any] = []
    now = client.server.cmd_time_ms
    for sid in consumer.pel.irange(minimum=start):
        if count and len(out) >= count:
            break
        flat = s.entries.get(sid)
        if flat is None:
            out.append([format_id(sid), NULL_ARRAY])
        else:
            out.append([format_id(sid), flat])
            nack = consumer.pel[sid]
            nack.delivery_time = now
            nack.delivery_count += 1
    return out


def _wrap(client: Client, items: list[tuple[bytes, list[Any]]]) -> Any:
    if client.protover == 2:
        return [[k, v] for k, v in items]
    reply = dict(items)
    if len(reply) != len(items):
        # The same key named twice: Redis's map repeats it, which a dict cannot.
        return Raw(b"%%%d\r\n" % len(items) + b"".join(encode(k, 3) + encode(v, 3) for k, v in items))
    return reply


def _xread(client: Client, args: list[bytes], xreadgroup: bool) -> Any:
    timeout = -1
    count = 0
    streams_arg = 0
    streams_count = 0
    noack = False
    gname: bytes | None = None
    cname = b""
    argc = len(args)
    i = 1
    while i < argc:
        more = argc - i - 1
        o = args[i].lower()
        if o == b"block" and more:
            if client.server.in_script:
                raise CommandError(b"ERR %s command is not allowed with BLOCK option from scripts" % args[0])
            i += 1
            timeout = parse_timeout_ms(args[i])
        elif o == b"count" and more:
            i += 1
            count = parse_int(args[i])
            if count < 0:
                count = 0
        elif o == b"streams" and more:
            streams_arg = i + 1
            streams_count = argc - streams_arg
            if streams_count % 2:
                raise CommandError(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
                )
            streams_count //= 2
            break
        elif o == b"group" and more >= 2:
            if not xreadgroup:
                raise CommandError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
            gname = args[i + 1]
            cname = args[i + 2]
            i += 2
        elif o == b"noack":
            if not xreadgroup:
                raise CommandError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
            noack = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    if streams_arg == 0:
        raise CommandError(SYNTAX)
    if xreadgroup and gname is None:
        raise CommandError("ERR Missing GROUP option for XREADGROUP")
    keys = args[streams_arg : streams_arg + streams_count]
    gts: list[int] = []
    groups: list[Group | None] = []
    db = client.db
    for idx in range(streams_count):
        key = keys[idx]
        arg = args[streams_arg + streams_count + idx]
        s = _get_stream(lookup_read(client, key))
        group = None
        if gname is not None:
            group = s.groups.get(gname) if s is not None else None
            if group is None:
                raise CommandError(
                    b"NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option" % (key, gname)
                )
        groups.append(group)
        if arg == b"$":
            if xreadgroup:
                raise CommandError(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of "
                    "this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would "
                    "just return an empty result set."
                )
            gts.append(s.last_id if s is not None else 0)
            continue
        if arg == b">":
            if not xreadgroup:
                raise CommandError(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
                )
            gts.append(MAX_ID)
            continue
        gts.append(parse_strict(arg))
    server = client.server
    items: list[tuple[bytes, list[Any]]] = []
    props: list[list[bytes]] = []
    dirty_before = server.dirty
    for idx in range(streams_count):
        key = keys[idx]
        s = _get_stream(lookup_read(client, key))
        if s is None:
            continue
        gt = gts[idx]
        group = groups[idx]
        sync = False
        history = False
        if group is not None:
            if gt != MAX_ID:
                sync = history = True
            elif s.ids and s.ids[-1] > group.last_id:
                sync = True
                gt = group.last_id
        elif s.ids and s.ids[-1] > gt:
            sync = True
        if not sync:
            continue
        start = (gt + 1) & MAX_ID
        if group is not None:
            consumer = _lookup_consumer(client, group, cname)
            if consumer is None:
                consumer = _create_consumer(client, group, cname, key, db.id)
                if noack:
                    props.append([b"XGROUP", b"CREATECONSUMER", key, gname, cname])  # type: ignore[list-item]
            if history:
                entries = _history(client, s, start, count, consumer)
            else:
                entries = _deliver(client, s, key, start, count, group, consumer, gname, noack, props)  # type: ignore[arg-type]
            server.dirty += 1
        else:
            entries = _deliver(client, s, key, start, count, None, None, b"", False, None)
        items.append((key, entries))
    if xreadgroup and server.dirty != dirty_before:
        client.propagate_override = props
    if items:
        return _wrap(client, items)
    if timeout != -1:
        first: dict[bytes, int] = {}
        for key, gt in zip(keys, gts, strict=True):
            first.setdefault(key, gt)
        serve = (
            _serve_group(gname, cname, noack, count or XREAD_BLOCKED_DEFAULT_COUNT)
            if gname is not None
            else _serve_read(first, count or XREAD_BLOCKED_DEFAULT_COUNT)
        )
        return block_client(client, list(keys), timeout / 1000.0, serve, NULL_ARRAY)
    return NULL_ARRAY


def _serve_read(gts: dict[bytes, int], count: int) -> Any:
    def serve(client: Client, key: bytes) -> Any:
        s = client.db.lookup(key)
        if type(s) is not Stream:
            return None
        gt = gts[key]
        if s.last_id <= gt:
            return None
        return _wrap(client, [(key, _entries(s.range((gt + 1) & MAX_ID, MAX_ID, count)))])

    return serve


def _serve_group(gname: bytes, cname: bytes, noack: bool, count: int) -> Any:
    def serve(client: Client, key: bytes) -> Any:
        db = client.db
        s = db.lookup(key)
        if type(s) is not Stream:
            return None
        group = s.groups.get(gname)
        if group is None:
            return ErrorReply(b"NOGROUP the consumer group this client was blocked on no longer exists")
        gt = group.last_id
        if s.last_id <= gt:
            return None
        props: list[list[bytes]] = []
        consumer = _lookup_consumer(client, group, cname)
        if consumer is None:
            consumer = _create_consumer(client, group, cname, key, db.id)
            if noack:
                props.append([b"XGROUP", b"CREATECONSUMER", key, gname, cname])
        entries = _deliver(client, s, key, (gt + 1) & MAX_ID, count, group, consumer, gname, noack, props)
        server = client.server
        server.dirty += 1
        for argv in props:
            server.propagate(db.id, argv)
        return _wrap(client, [(key, entries)])

    return serve


def _xread_keys(args: list[bytes]) -> list[int]:
    """Key positions of XREAD/XREADGROUP: the first half of what follows STREAMS."""
    for i in range(1, len(args)):
        if args[i].lower() == b"streams":
            n = (len(args) - i - 1) // 2
            return list(range(i + 1, i + 1 + n))
    return []


@command("xread", -4, "readonly blocking movablekeys", 0, 0, 0, "@stream", getkeys=_xread_keys)
def xread(client: Client, args: list[bytes]) -> Any:
    """XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...] -> [[key, entries] ...]
    (a map in RESP3), or a null array when nothing arrived."""
    return _xread(client, args, False)


@command("xreadgroup", -7, "write blocking movablekeys", 0, 0, 0, "@stream", getkeys=_xread_keys)
def xreadgroup(client: Client, args: list[bytes]) -> Any:
    """XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...]
    id|> [id|> ...] -> like XREAD, delivering to the consumer (PEL) or reading its history."""
    return _xread(client, args, True)


# --------------------------------------------------------------------------- XGROUP

GROUP.container("xgroup", -2)


def _xgroup_prepare(client: Client, args: list[bytes], sub: bytes) -> tuple[Stream | None, Group | None, bool, int]:
    """The shared prologue of XGROUP subcommands: options, key and group lookup."""
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 5
    argc = len(args)
    while i < argc:
        opt = args[i].lower()
        if sub == b"create" and opt == b"mkstream":
            mkstream = True
            i += 1
        elif sub in (b"create", b"setid") and opt == b"entriesread" and i + 1 < argc:
            entries_read = parse_int(args[i + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                raise CommandError("ERR value for ENTRIESREAD must be positive or -1")
            i += 2
        else:
            raise _subcommand_syntax(args[1], "xgroup")
    s = _write(client, args[2])
    if s is None and not (sub == b"create" and mkstream):
        raise CommandError(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use "
            "the MKSTREAM option to create an empty stream automatically."
        )
    group = s.groups.get(args[3]) if s is not None else None
    if group is None and sub in (b"setid", b"createconsumer", b"delconsumer"):
        raise CommandError(b"NOGROUP No such consumer group '%s' for key name '%s'" % (args[3], args[2]))
    return s, group, mkstream, entries_read


def _subcommand_syntax(sub: bytes, cmd: str) -> CommandError:
    return CommandError(
        b"ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP." % (sub, cmd.upper().encode())
    )


@command("xgroup|create", -5, "write denyoom", 2, 2, 1, "@stream")
def xgroup_create(client: Client, args: list[bytes]) -> Any:
    """XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n] -> OK (BUSYGROUP if it exists)."""
    s, _, _, entries_read = _xgroup_prepare(client, args, b"create")
    if len(args) > 8:
        raise _subcommand_syntax(args[1], "xgroup")
    if args[4] == b"$":
        sid = s.last_id if s is not None else 0
    else:
        sid = parse_strict(args[4])
    server = client.server
    db = client.db
    key = args[2]
    if s is None:
        s = Stream()
        db.set(key, s)
        server.signal_modified_key(db, key)
    if s.create_group(args[3], sid, entries_read) is None:
        raise CommandError("BUSYGROUP Consumer Group name already exists")
    server.dirty += 1
    server.notify(NOTIFY_STREAM, "xgroup-create", key, db.id)
    return OK


@command("xgroup|setid", -5, "write", 2, 2, 1, "@stream")
def xgroup_setid(client: Client, args: list[bytes]) -> Any:
    """XGROUP SETID key group id|$ [ENTRIESREAD n] -> OK."""
    s, group, _, entries_read = _xgroup_prepare(client, args, b"setid")
    if len(args) not in (5, 7):
        raise _subcommand_syntax(args[1], "xgroup")
    assert s is not None and group is not None
    sid = s.last_id if args[4] == b"$" else parse_id(args[4])[0]
    group.last_id = sid
    group.entries_read = entries_read
    server = client.server
    server.dirty += 1
    server.notify(NOTIFY_STREAM, "xgroup-setid", args[2], client.db.id)
    return OK


@command("xgroup|destroy", 4, "write", 2, 2, 1, "@stream")
def xgroup_destroy(client: Client, args: list[bytes]) -> Any:
    """XGROUP DESTROY key group -> integer: 1 if the group existed."""
    s, group, _, _ = _xgroup_prepare(client, args, b"destroy")
    if group is None or s is None:
        return 0
    del s.groups[args[3]]
    server = client.server
    db = client.db
    server.dirty += 1
    server.notify(NOTIFY_STREAM, "xgroup-destroy", args[2], db.id)
    server.signal_key_as_ready(db, args[2])
    return 1


@command("xgroup|createconsumer", 5, "write denyoom", 2, 2, 1, "@stream")
def xgroup_createconsumer(client: Client, args: list[bytes]) -> Any:
    """XGROUP CREATECONSUMER key group consumer -> integer: 1 if created."""
    _, group, _, _ = _xgroup_prepare(client, args, b"createconsumer")
    assert group is not None
    if args[4] in group.consumers:
        return 0
    _create_consumer(client, group, args[4], args[2], client.db.id)
    return 1


@command("xgroup|delconsumer", 5, "write", 2, 2, 1, "@stream")
def xgroup_delconsumer(client: Client, args: list[bytes]) -> Any:
    """XGROUP DELCONSUMER key group consumer -> integer: the consumer's pending count."""
    _, group, _, _ = _xgroup_prepare(client, args, b"delconsumer")
    assert group is not None
    consumer = group.consumers.get(args[4])
    if consumer is None:
        return 0
    pending = len(consumer.pel)
    group.delete_consumer(consumer)
    server = client.server
    server.dirty += 1
    server.notify(NOTIFY_STREAM, "xgroup-delconsumer", args[2], client.db.id)
    return pending


_XGROUP_HELP: Final = """XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
CREATE <key> <groupname> <id|$> [option]
    Create a new consumer group. Options are:
    * MKSTREAM
      Create the empty stream if it does not exist.
    * ENTRIESREAD entries_read
      Set the group's entries_read counter (internal use).
CREATECONSUMER <key> <groupname> <consumer>
    Create a new consumer in the specified group.
DELCONSUMER <key> <groupname> <consumer>
    Remove the specified consumer.
DESTROY <key> <groupname>
    Remove the specified group.
SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]
    Set the current group ID and entries_read counter.
HELP
    Prints this help."""

_XINFO_HELP: Final = """XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
CONSUMERS <key> <groupname>
    Show consumers of <groupname>.
GROUPS <key>
    Show the stream consumer groups.
STREAM <key> [FULL [COUNT <count>]
    Show information about the stream.
HELP
    Prints this help."""


def _help(text: str) -> list[Simple]:
    return [Simple(line.encode()) for line in text.split("\n")]


@command("xgroup|help", 2, "loading stale", 0, 0, 0, "@stream")
def xgroup_help(client: Client, args: list[bytes]) -> Any:
    """XGROUP HELP -> array of status lines."""
    return _help(_XGROUP_HELP)


# --------------------------------------------------------------------------- XACK / XPENDING


@command("xack", -4, "write fast", 1, 1, 1, "@stream")
def xack(client: Client, args: list[bytes]) -> Any:
    """XACK key group id [id ...] -> integer: entries acknowledged."""
    s = _read(client, args[1])
    group = s.groups.get(args[2]) if s is not None else None
    if group is None:
        return 0
    ids = [parse_strict(a) for a in args[3:]]
    acked = 0
    pel = group.pel
    server = client.server
    for sid in ids:
        nack = pel.pop(sid, None)
        if nack is not None:
            if nack.consumer is not None:
                nack.consumer.pel.pop(sid, None)
            acked += 1
            server.dirty += 1
    return acked


@command("xpending", -3, "readonly", 1, 1, 1, "@stream")
def xpending(client: Client, args: list[bytes]) -> Any:
    """XPENDING key group [[IDLE min-idle] start end count [consumer]] -> the summary
    [count, first, last, [[consumer, count] ...]] or [[id, consumer, idle, deliveries] ...]."""
    argc = len(args)
    justinfo = argc == 3
    if argc != 3 and (argc < 6 or argc > 9):
        raise CommandError(SYNTAX)
    cname: bytes | None = None
    minidle = 0
    count = 0
    start = end = 0
    if argc >= 6:
        startidx = 3
        if args[3].lower() == b"idle":
            minidle = parse_int(args[4])
            if argc < 8:
                raise CommandError(SYNTAX)
            startidx += 2
        count = parse_int(args[startidx + 2])
        if count < 0:
            count = 0
        start, ex = parse_interval(args[startidx], 0)
        if ex:
            nxt = _incr(start)
            if nxt is None:
                raise CommandError("ERR invalid start ID for the interval")
            start = nxt
        end, ex = parse_interval(args[startidx + 1], U64)
        if ex:
            prev = _decr(end)
            if prev is None:
                raise CommandError("ERR invalid end ID for the interval")
            end = prev
        if startidx + 3 < argc:
            cname = args[startidx + 3]
    s = _read(client, args[1])
    group = s.groups.get(args[2]) if s is not None else None
    if group is None:
        raise _nogroup(args[1], args[2])
    if justinfo:
        pel = group.pel
        if not pel:
            return [0, None, None, NULL_ARRAY]
        owners = [[c.name, b"%d" % len(c.pel)] for c in group.sorted_consumers() if c.pel]
        return [len(pel), format_id(pel.peekitem(0)[0]), format_id(pel.peekitem(-1)[0]), owners]
    if cname is not None:
        consumer = group.consumers.get(cname)
        if consumer is None:
            return []
        pel = consumer.pel
    else:
        pel = group.pel
    now = client.server.cmd_time_ms
    out: list[Any] = []
    if not count:
        return out
    for sid in pel.irange(minimum=start, maximum=end):
        nack = pel[sid]
        if minidle and now - nack.delivery_time < minidle:
            continue
        elapsed = now - nack.delivery_time
        out.append([format_id(sid), nack.consumer.name, elapsed if elapsed > 0 else 0, nack.delivery_count])
        if len(out) >= count:
            break
    return out


# --------------------------------------------------------------------------- XCLAIM / XAUTOCLAIM


@command("xclaim", -6, "write fast", 1, 1, 1, "@stream")
def xclaim(client: Client, args: list[bytes]) -> Any:
    """XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n]
    [FORCE] [JUSTID] [LASTID id] -> array of claimed entries (or IDs with JUSTID)."""
    key = args[1]
    gname = args[2]
    s = _read(client, key)
    group = s.groups.get(gname) if s is not None else None
    if s is None or group is None:
        raise _nogroup(key, gname)
    minidle = parse_int(args[4], "ERR Invalid min-idle-time argument for XCLAIM")
    if minidle < 0:
        minidle = 0
    argc = len(args)
    ids: list[tuple[int, bytes]] = []
    j = 5
    while j < argc:
        try:
            ids.append((parse_strict(args[j]), args[j]))
        except CommandError:
            break
        j += 1
    server = client.server
    now = server.cmd_time_ms
    retrycount = -1
    deliverytime = -1
    force = justid = False
    last_id = 0
    while j < argc:
        more = argc - 1 - j
        opt = args[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            deliverytime = now - parse_int(args[j], "ERR Invalid IDLE option argument for XCLAIM")
        elif opt == b"time" and more:
            j += 1
            deliverytime = parse_int(args[j], "ERR Invalid TIME option argument for XCLAIM")
        elif opt == b"retrycount" and more:
            j += 1
            retrycount = parse_int(args[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif opt == b"lastid" and more:
            j += 1
            last_id = parse_strict(args[j])
        else:
            raise CommandError(b"ERR Unrecognized XCLAIM option '%s'" % args[j])
        j += 1
    propagate_last_id = False
    if last_id > group.last_id:
        group.last_id = last_id
        propagate_last_id = True
    if deliverytime != -1:
        if deliverytime < 0 or deliverytime > now:
            deliverytime = now
    else:
        deliverytime = now
    consumer: Consumer | None = None
    cname = args[3]
    out: list[Any] = []
    props: list[list[bytes]] = []
    pel = group.pel
    for sid, raw in ids:
        nack = pel.get(sid)
        flat = s.entries.get(sid)
        if flat is None:
            if nack is not None:
                props.append(_xclaim_argv(key, gname, group, raw, nack))
                propagate_last_id = False
                server.dirty += 1
                del pel[sid]
                if nack.consumer is not None:
                    nack.consumer.pel.pop(sid, None)
            continue
        if force and nack is None:
            nack = NACK(None, now)
            pel[sid] = nack
        if nack is None:
            continue
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = _lookup_consumer(client, group, cname)
            if consumer is None:
                consumer = _create_consumer(client, group, cname, key, client.db.id)
        if nack.consumer is not consumer and nack.consumer is not None:
            nack.consumer.pel.pop(sid, None)
        nack.delivery_time = deliverytime
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel[sid] = nack
            nack.consumer = consumer
        out.append(format_id(sid) if justid else [format_id(sid), flat])
        props.append(_xclaim_argv(key, gname, group, raw, nack))
        propagate_last_id = False
        server.dirty += 1
    if propagate_last_id:
        props.append(_setid_argv(key, gname, group))
        server.dirty += 1
    client.propagate_override = props
    return out


@command("xautoclaim", -6, "write fast", 1, 1, 1, "@stream")
def xautoclaim(client: Client, args: list[bytes]) -> Any:
    """XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
    -> [next-cursor, claimed entries (or IDs), deleted IDs]."""
    key = args[1]
    gname = args[2]
    minidle = parse_int(args[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")
    if minidle < 0:
        minidle = 0
    start, ex = parse_interval(args[5], 0)
    if ex:
        nxt = _incr(start)
        if nxt is None:
            raise CommandError("ERR invalid start ID for the interval")
        start = nxt
    count = 100
    justid = False
    argc = len(args)
    j = 6
    max_count = (2**63 - 1) // 16
    while j < argc:
        more = argc - 1 - j
        opt = args[j].lower()
        if opt == b"count" and more:
            v = string2ll(args[j + 1])
            if v is None or v < 1 or v > max_count:
                raise CommandError("ERR COUNT must be > 0")
            count = v
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            raise CommandError(SYNTAX)
        j += 1
    s = _read(client, key)
    group = s.groups.get(gname) if s is not None else None
    if s is None or group is None:
        raise _nogroup(key, gname)
    attempts = count * 10
    server = client.server
    now = server.cmd_time_ms
    cname = args[3]
    consumer: Consumer | None = None
    out: list[Any] = []
    deleted: list[bytes] = []
    props: list[list[bytes]] = []
    pel = group.pel
    keys = list(islice(pel.irange(minimum=start), attempts + 1))  # the examined IDs and the cursor
    pos = 0
    n = len(keys)
    while attempts and count and pos < n:
        attempts -= 1
        sid = keys[pos]
        pos += 1
        nack = pel[sid]
        flat = s.entries.get(sid)
        idtext = format_id(sid)
        if flat is None:
            props.append(_xclaim_argv(key, gname, group, idtext, nack))
            server.dirty += 1
            del pel[sid]
            if nack.consumer is not None:
                nack.consumer.pel.pop(sid, None)
            deleted.append(idtext)
            count -= 1
            continue
        if minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = _lookup_consumer(client, group, cname)
            if consumer is None:
                consumer = _create_consumer(client, group, cname, key, client.db.id)
        if nack.consumer is not consumer and nack.consumer is not None:
            nack.consumer.pel.pop(sid, None)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel[sid] = nack
            nack.consumer = consumer
        out.append(idtext if justid else [idtext, flat])
        count -= 1
        props.append(_xclaim_argv(key, gname, group, idtext, nack))
        server.dirty += 1
    cursor = format_id(keys[pos]) if pos < n else b"0-0"
    client.propagate_override = props
    return [cursor, out, deleted]


# --------------------------------------------------------------------------- XINFO

GROUP.container("xinfo", -2)


def _info_stream(client: Client) -> Stream:
    s = _read(client, client.argv[2])
    if s is None:
        raise CommandError("ERR no such key")
    return s


@command("xinfo|consumers", 4, "readonly", 2, 2, 1, "@stream")
def xinfo_consumers(client: Client, args: list[bytes]) -> Any:
    """XINFO CONSUMERS key group -> array of maps: name, pending, idle."""
    s = _info_stream(client)
    group = s.groups.get(args[3])
    if group is None:
        raise CommandError(b"NOGROUP No such consumer group '%s' for key name '%s'" % (args[3], args[2]))
    now = client.server.cmd_time_ms
    out = []
    for c in group.sorted_consumers():
        idle = now - c.seen_time
        out.append({b"name": c.name, b"pending": len(c.pel), b"idle": idle if idle > 0 else 0})
    return out


@command("xinfo|groups", 3, "readonly", 2, 2, 1, "@stream")
def xinfo_groups(client: Client, args: list[bytes]) -> Any:
    """XINFO GROUPS key -> array of maps: name, consumers, pending, last-delivered-id,
    entries-read, lag."""
    s = _info_stream(client)
    return [
        {
            b"name": g.name,
            b"consumers": len(g.consumers),
            b"pending": len(g.pel),
            b"last-delivered-id": format_id(g.last_id),
            b"entries-read": g.entries_read if g.entries_read != INVALID_ENTRIES_READ else None,
            b"lag": s.lag(g),
        }
        for g in s.sorted_groups()
    ]


@command("xinfo|stream", -3, "readonly", 2, 2, 1, "@stream")
def xinfo_stream(client: Client, args: list[bytes]) -> Any:
    """XINFO STREAM key [FULL [COUNT count]] -> map of the stream's metadata (and, with FULL,
    its entries, groups, PELs and consumers)."""
    s = _info_stream(client)
    extra = args[3:]
    full = bool(extra)
    count = 10
    if extra:
        if len(extra) > 3 or extra[0].lower() != b"full":
            raise _subcommand_syntax(args[1], "xinfo")
        if len(extra) > 1:
            if len(extra) != 3 or extra[1].lower() != b"count":
                raise _subcommand_syntax(args[1], "xinfo")
            count = parse_int(extra[2])
            if count < 0:
                count = 10
    info: dict[bytes, Any] = {
        b"length": len(s),
        b"radix-tree-keys": len(s.nodes),
        b"radix-tree-nodes": s.rax_nodes(),
        b"last-generated-id": format_id(s.last_id),
        b"max-deleted-entry-id": format_id(s.max_deleted_id),
        b"entries-added": s.entries_added,
        b"recorded-first-entry-id": format_id(s.first_id),
    }
    if not full:
        info[b"groups"] = len(s.groups)
        first = s.range(0, MAX_ID, 1)
        last = s.range(0, MAX_ID, 1, rev=True)
        info[b"first-entry"] = _entries(first)[0] if first else None
        info[b"last-entry"] = _entries(last)[0] if last else None
        return info
    info[b"entries"] = _entries(s.range(0, MAX_ID, count))
    groups = []
    for g in s.sorted_groups():
        pel: list[Any] = []
        for sid, nack in g.pel.items():
            if count and len(pel) >= count:
                break
            pel.append([format_id(sid), nack.consumer.name, nack.delivery_time, nack.delivery_count])
        consumers = []
        for c in g.sorted_consumers():
            cpel: list[Any] = []
            for sid, nack in c.pel.items():
                if count and len(cpel) >= count:
                    break
                cpel.append([format_id(sid), nack.delivery_time, nack.delivery_count])
            consumers.append({b"name": c.name, b"seen-time": c.seen_time, b"pel-count": len(c.pel), b"pending": cpel})
        groups.append(
            {
                b"name": g.name,
                b"last-delivered-id": format_id(g.last_id),
                b"entries-read": g.entries_read if g.entries_read != INVALID_ENTRIES_READ else None,
                b"lag": s.lag(g),
                b"pel-count": len(g.pel),
                b"pending": pel,
                b"consumers": consumers,
            }
        )
    info[b"groups"] = groups
    return info


@command("xinfo|help", 2, "loading stale", 0, 0, 0, "@stream")
def xinfo_help(client: Client, args: list[bytes]) -> Any:
    """XINFO HELP -> array of status lines."""
    return _help(_XINFO_HELP)


__all__ = ["GROUP", "parse_id"]
