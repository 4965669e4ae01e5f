"""Server administration: INFO, CONFIG, COMMAND, DEBUG, SLOWLOG, LATENCY, MEMORY and friends.

Invariants:

* COMMAND INFO's arity, flags, key positions and ACL categories come from the live command
  table (each family's declarations); its tips and key specs, and all of COMMAND DOCS, come
  from ``docs.json`` (dumped from a real Redis by ``tools/dump_redis_commands.py``), with
  ``EXTRA_DOCS`` for commands newer than the dumped release.
* INFO sections are generated in Redis's fixed order whatever order they are asked in.
* CONFIG SET parses every value before changing anything, so a failing multi-parameter SET
  leaves the configuration untouched (Redis's all-or-nothing rule).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import sys
import time
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from snakedis import REDIS_VERSION
from snakedis.commands.args import parse_int
from snakedis.commands.table import Command, CommandGroup, Flag
from snakedis.config import PARAMS, ConfigError
from snakedis.db.types import encoding as value_encoding
from snakedis.db.types import type_name
from snakedis.protocol.errors import CommandError, err, syntax
from snakedis.protocol.resp import OK, Raw, SetReply, Simple, Verbatim
from snakedis.util.glob import match as glob_match

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

GROUP = CommandGroup("server")
command = GROUP.command

_DOCS_PATH: Final = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docs.json")


def help_reply(lines: str) -> list[Simple]:
    """A HELP reply: one status line per line of text."""
    return [Simple(line.encode()) for line in lines.strip("\n").split("\n")]


# ---------------------------------------------------------------------------------- docs data


def _decode(value: Any) -> Any:
    """docs.json's tagged JSON -> reply values (see tools/dump_redis_commands.py)."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            if "+" in value:
                return Simple(value["+"].encode())
            if "~" in value:
                return SetReply(_decode(v) for v in value["~"])
        return {k.encode(): _decode(v) for k, v in value.items()}
    return value


# Hand-written entries for commands Redis 7.0 lacks (same tagged format as docs.json).
EXTRA_DOCS: Final[dict[str, dict[str, Any]]] = {
    "client|setinfo": {
        "arity": 4,
        "flags": ["noscript", "loading", "stale"],
        "group": "connection",
        "tips": {"~": ["request_policy:all_nodes", "response_policy:all_succeeded"]},
        "key_specs": {"~": []},
        "docs": {
            "summary": "Sets information specific to the client or connection.",
            "since": "7.2.0",
            "group": "connection",
            "complexity": "O(1)",
            "arguments": [
                {
                    "name": "attr",
                    "type": "oneof",
                    "arguments": [
                        {"name": "libname", "type": "string", "token": "LIB-NAME"},
                        {"name": "libver", "type": "string", "token": "LIB-VER"},
                    ],
                }
            ],
        },
    },
    "client|no-touch": {
        "arity": 3,
        "flags": ["noscript", "loading", "stale"],
        "group": "connection",
        "tips": {"~": []},
        "key_specs": {"~": []},
        "docs": {
            "summary": "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
            "since": "7.2.0",
            "group": "connection",
            "complexity": "O(1)",
            "arguments": [
                {
                    "name": "enabled",
                    "type": "oneof",
                    "arguments": [
                        {"name": "on", "type": "pure-token", "token": "ON"},
                        {"name": "off", "type": "pure-token", "token": "OFF"},
                    ],
                }
            ],
        },
    },
}


def _hash_field_ttl_doc(summary: str, time_arg: str | None, write: bool, flags: list[str]) -> dict[str, Any]:
    """A Redis 7.4 hash-field-expiration command's entry (HEXPIRE, HTTL, HPERSIST ...)."""
    args: list[dict[str, Any]] = [{"name": "key", "type": "key", "key_spec_index": 0}]
    if time_arg is not None:
        args.append({"name": time_arg, "type": "integer"})
        args.append(
            {
                "name": "condition",
                "type": "oneof",
                "flags": {"~": [{"+": "optional"}]},
                "arguments": [{"name": w.lower(), "type": "pure-token", "token": w} for w in ("NX", "XX", "GT", "LT")],
            }
        )
    args.append(
        {
            "name": "fields",
            "type": "block",
            "token": "FIELDS",
            "arguments": [
                {"name": "numfields", "type": "integer"},
                {"name": "field", "type": "string", "flags": {"~": [{"+": "multiple"}]}},
            ],
        }
    )
    key_flags = ["RW", "update"] if write else ["RO", "access"]
    return {
        "arity": -6 if time_arg is not None else -5,
        "flags": flags,
        "group": "hash",
        "tips": {"~": []},
        "key_specs": {
            "~": [
                {
                    "flags": {"~": [{"+": f} for f in key_flags]},
                    "begin_search": {"type": "index", "spec": {"index": 1}},
                    "find_keys": {"type": "range", "spec": {"lastkey": 0, "keystep": 1, "limit": 0}},
                }
            ]
        },
        "docs": {
            "summary": summary,
            "since": "7.4.0",
            "group": "hash",
            "complexity": "O(N) where N is the number of specified fields",
            "arguments": args,
        },
    }


_W, _R = ["write", "denyoom", "fast"], ["readonly", "fast"]
EXTRA_DOCS.update(
    {
        "hexpire": _hash_field_ttl_doc(
            "Set expiry for hash field using relative time to expire (seconds)", "seconds", True, _W
        ),
        "hpexpire": _hash_field_ttl_doc(
            "Set expiry for hash field using relative time to expire (milliseconds)", "milliseconds", True, _W
        ),
        "hexpireat": _hash_field_ttl_doc(
            "Set expiry for hash field using an absolute Unix timestamp (seconds)", "unix-time-seconds", True, _W
        ),
        "hpexpireat": _hash_field_ttl_doc(
            "Set expiry for hash field using an absolute Unix timestamp (milliseconds)",
            "unix-time-milliseconds",
            True,
            _W,
        ),
        "httl": _hash_field_ttl_doc("Returns the TTL in seconds of a hash field.", None, False, _R),
        "hpttl": _hash_field_ttl_doc("Returns the TTL in milliseconds of a hash field.", None, False, _R),
        "hexpiretime": _hash_field_ttl_doc(
            "Returns the expiration time of a hash field as a Unix timestamp, in seconds.", None, False, _R
        ),
        "hpexpiretime": _hash_field_ttl_doc(
            "Returns the expiration time of a hash field as a Unix timestamp, in msec.", None, False, _R
        ),
        "hpersist": _hash_field_ttl_doc(
            "Removes the expiration time for each specified field", None, True, ["write", "fast"]
        ),
    }
)


@cache
def raw_docs() -> dict[str, Any]:
    """Every Redis command's facts, as dumped (name -> entry), plus ``EXTRA_DOCS``."""
    with open(_DOCS_PATH) as f:
        data = json.load(f)["commands"]
    data.update(EXTRA_DOCS)
    return data  # type: ignore[no-any-return]


@cache
def _decoded(name: str) -> tuple[Any, Any, Any] | None:
    """(tips, key_specs, docs map) as reply values, or None for an undocumented command."""
    entry = raw_docs().get(name)
    if entry is None:
        return None
    return (
        _decode(entry.get("tips", {"~": []})),
        _decode(entry.get("key_specs", {"~": []})),
        _decode(entry.get("docs", {})),
    )


# ---------------------------------------------------------------------------------- COMMAND


def _flag_replies(cmd: Command) -> SetReply:
    """COMMAND INFO flags in Redis's order; may_replicate, sentinel, protected stay hidden."""
    flags = cmd.flags
    if cmd.getkeys is not None:
        flags |= Flag.MOVABLE_KEYS
    return SetReply(Simple(n.encode()) for n, f in _VISIBLE_FLAGS if flags & f)


def _visible_flags() -> tuple[tuple[str, Flag], ...]:
    from snakedis.commands.table import FLAG_NAMES

    hidden = ("may_replicate", "sentinel", "only_sentinel", "protected")
    order = (
        "write readonly denyoom module admin pubsub noscript blocking loading stale skip_monitor skip_slowlog "
        "asking fast no_auth may_replicate sentinel only_sentinel no_mandatory_keys protected no_async_loading "
        "no_multi movablekeys allow_busy"
    ).split()
    return tuple((n, FLAG_NAMES[n]) for n in order if n not in hidden)


_VISIBLE_FLAGS: Final = _visible_flags()


def command_info(cmd: Command) -> list[Any]:
    """One COMMAND INFO entry."""
    decoded = _decoded(cmd.name)
    tips, specs = (decoded[0], decoded[1]) if decoded is not None else (SetReply(), SetReply())
    return [
        cmd.name.encode(),
        cmd.arity,
        _flag_replies(cmd),
        cmd.first_key,
        cmd.last_key,
        cmd.step,
        SetReply(Simple(b"@" + c.encode()) for c in cmd.categories),
        tips,
        specs,
        SetReply(command_info(sub) for sub in cmd.subcommands.values()),
    ]


def command_docs(cmd: Command) -> dict[bytes, Any]:
    """One COMMAND DOCS map (subcommands from the table)."""
    decoded = _decoded(cmd.name)
    doc: dict[bytes, Any] = dict(decoded[2]) if decoded is not None else {}
    if cmd.subcommands:
        doc[b"subcommands"] = {sub.name.encode(): command_docs(sub) for sub in cmd.subcommands.values()}
    return doc


# COMMAND answers bare too, so it is a plain command whose subcommands attach to it.
@command("command", -1, "loading stale", categories="@connection")
def command_bare(client: Client, args: list[bytes]) -> Any:
    """COMMAND -> every command's COMMAND INFO entry."""
    return [command_info(cmd) for cmd in client.server.table.by_name.values()]


@command("command|count", 2, "loading stale", categories="@connection")
def command_count(client: Client, args: list[bytes]) -> Any:
    """COMMAND COUNT -> number of commands (subcommands not counted)."""
    return len(client.server.table.by_name)


@command("command|list", -2, "loading stale", categories="@connection")
def command_list(client: Client, args: list[bytes]) -> Any:
    """COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN glob] -> command names."""
    cmds = client.server.table.all_commands()
    if len(args) == 2:
        return [c.name.encode() for c in cmds]
    if len(args) != 5 or args[2].lower() != b"filterby":
        raise syntax()
    kind, value = args[3].lower(), args[4]
    if kind == b"module":
        return []
    if kind == b"aclcat":
        cat = value.decode("utf-8", "replace").lower()
        return [c.name.encode() for c in cmds if cat in c.categories]
    if kind == b"pattern":
        return [c.name.encode() for c in cmds if glob_match(value, c.name.encode(), nocase=True)]
    raise syntax()


@command("command|info", -2, "loading stale", categories="@connection")
def command_info_cmd(client: Client, args: list[bytes]) -> Any:
    """COMMAND INFO [name ...] -> entries (null for unknown names)."""
    table = client.server.table
    if len(args) == 2:
        return [command_info(cmd) for cmd in table.by_name.values()]
    out: list[Any] = []
    for name in args[2:]:
        cmd = table.find(name.decode("utf-8", "replace"))
        out.append(command_info(cmd) if cmd is not None else None)
    return out


@command("command|docs", -2, "loading stale", categories="@connection")
def command_docs_cmd(client: Client, args: list[bytes]) -> Any:
    """COMMAND DOCS [name ...] -> map of name to documentation (unknown names skipped)."""
    table = client.server.table
    if len(args) == 2:
        return {cmd.name.encode(): command_docs(cmd) for cmd in table.by_name.values()}
    out: dict[bytes, Any] = {}
    for name in args[2:]:
        cmd = table.find(name.decode("utf-8", "replace"))
        if cmd is not None:
            out[cmd.name.encode()] = command_docs(cmd)
    return out


def _resolve(client: Client, argv: list[bytes]) -> Command:
    table = client.server.table
    cmd = table.lookup(argv[0])
    if cmd is not None and cmd.subcommands and len(argv) >= 2:
        cmd = cmd.subcommands.get(argv[1].lower(), None) or cmd
    if cmd is None or (cmd.subcommands and cmd.handler is None and len(argv) < 2):
        raise err("Invalid command specified")
    if cmd.subcommands and cmd.handler is None:
        raise err("Invalid command specified")
    if not cmd.arity_ok(len(argv)):
        raise err("Invalid number of arguments specified for command")
    return cmd


def _spec_keys(specs: list[dict[bytes, Any]], argv: list[bytes]) -> dict[int, list[Any]]:
    """Evaluate Redis key specs over ``argv``: position -> key flags (first spec wins)."""
    out: dict[int, list[Any]] = {}
    argc = len(argv)
    for spec in specs:
        bs, fk = spec.get(b"begin_search", {}), spec.get(b"find_keys", {})
        bs_type, bs_spec = bs.get(b"type"), bs.get(b"spec", {})
        if bs_type == b"index":
            first = bs_spec[b"index"]
        elif bs_type == b"keyword":
            kw, start = bs_spec[b"keyword"].lower(), bs_spec[b"startfrom"]
            rng = range(start, argc) if start > 0 else range(argc + start, 0, -1)
            first = 0
            for i in rng:
                if 0 < i < argc and argv[i].lower() == kw:
                    first = i + 1
                    break
            if not first:
                continue
        else:
            continue
        if first >= argc:
            continue
        fk_type, fk_spec = fk.get(b"type"), fk.get(b"spec", {})
        if fk_type == b"range":
            lastkey, step, limit = fk_spec[b"lastkey"], fk_spec[b"keystep"], fk_spec[b"limit"]
            if lastkey >= 0:
                last = first + lastkey
            elif limit <= 1:
                last = argc + lastkey
            else:
                last = first + (argc - 1 - first) // limit
            positions = range(first, min(last, argc - 1) + 1, step)
        elif fk_type == b"keynum":
            numidx = first + fk_spec[b"keynumidx"]
            if numidx >= argc:
                continue
            try:
                n = int(argv[numidx])
            except ValueError:
                continue
            start = first + fk_spec[b"firstkey"]
            positions = range(start, min(start + n * fk_spec[b"keystep"], argc), fk_spec[b"keystep"])
        else:
            continue
        for p in positions:
            out.setdefault(p, list(spec.get(b"flags", [])))
    return out


def _keys_and_flags(client: Client, args: list[bytes]) -> list[tuple[bytes, list[Any]]]:
    argv = args[2:]
    cmd = _resolve(client, argv)
    positions = cmd.key_positions(argv)
    decoded = _decoded(cmd.name)
    flags = _spec_keys(list(decoded[1]), argv) if decoded is not None else {}
    if not positions:
        if cmd.getkeys is None and not flags and cmd.first_key <= 0:
            raise err("The command has no key arguments")
        raise err("Invalid arguments specified for command")
    variable = _variable_flags(cmd.name, argv)
    if variable is not None:
        return [(argv[p], variable) for p in positions if p < len(argv)]
    # Keys a spec cannot locate (SORT ... STORE) take the flags of the "unknown" spec.
    fallback: list[Any] = []
    if decoded is not None:
        for spec in decoded[1]:
            if spec.get(b"begin_search", {}).get(b"type") == b"unknown":
                fallback = list(spec.get(b"flags", []))  # the last one: SORT's STORE
    return [(argv[p], SetReply(flags.get(p, fallback))) for p in positions if p < len(argv)]


def _variable_flags(name: str, argv: list[bytes]) -> SetReply | None:
    """Key flags that depend on the arguments (Redis's VARIABLE_FLAGS specs: SET, BITFIELD)."""
    rw = SetReply((Simple(b"RW"), Simple(b"access"), Simple(b"update")))
    if name == "set":
        if any(a.lower() == b"get" for a in argv[3:]):
            return rw
        return SetReply((Simple(b"OW"), Simple(b"update")))
    if name == "bitfield":
        if any(a.lower() in (b"set", b"incrby") for a in argv[2:]):
            return rw
        return SetReply((Simple(b"RO"), Simple(b"access")))
    return None


@command("command|getkeys", -4, "loading stale", categories="@connection")
def command_getkeys(client: Client, args: list[bytes]) -> Any:
    """COMMAND GETKEYS command [arg ...] -> the key arguments."""
    return [k for k, _ in _keys_and_flags(client, args)]


@command("command|getkeysandflags", -4, "loading stale", categories="@connection")
def command_getkeysandflags(client: Client, args: list[bytes]) -> Any:
    """COMMAND GETKEYSANDFLAGS command [arg ...] -> [[key, [flag ...]] ...]."""
    return [[k, f] for k, f in _keys_and_flags(client, args)]


_COMMAND_HELP: Final = """
COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
(no subcommand)
    Return details about all Redis commands.
COUNT
    Return the total number of commands in this Redis server.
LIST
    Return a list of all commands in this Redis server.
INFO [<command-name> ...]
    Return details about multiple Redis commands.
    If no command names are given, documentation details for all
    commands are returned.
DOCS [<command-name> ...]
    Return documentation details about multiple Redis commands.
    If no command names are given, documentation details for all
    commands are returned.
GETKEYS <full-command>
    Return the keys from a full Redis command.
GETKEYSANDFLAGS <full-command>
    Return the keys and the access flags from a full Redis command.
HELP
    Prints this help.
"""


@command("command|help", 2, "loading stale", categories="@connection")
def command_help(client: Client, args: list[bytes]) -> Any:
    """COMMAND HELP -> help lines."""
    return help_reply(_COMMAND_HELP)


# ---------------------------------------------------------------------------------- INFO


def _human(n: float) -> str:
    """Redis's ``bytesToHuman``."""
    if n < 1024:
        return f"{int(n)}B"
    for unit, div in (("K", 1024), ("M", 1024**2), ("G", 1024**3), ("T", 1024**4), ("P", 1024**5)):
        if n < div * 1024 or unit == "P":
            return f"{n / div:.2f}{unit}"
    return f"{n}B"  # pragma: no cover


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _peak_memory(server: Server, used: int) -> int:
    peak = int(server.extensions.get("used_memory_peak", 0))
    if used > peak:
        peak = used
        server.extensions["used_memory_peak"] = peak
    return peak


def _info_server(server: Server) -> list[str]:
    now = server.clock()
    uptime = int(now - server.start_time)
    uname = os.uname()
    cfg = server.config
    return [
        f"redis_version:{REDIS_VERSION}",
        "redis_git_sha1:00000000",
        "redis_git_dirty:0",
        "redis_build_id:0",
        "redis_mode:standalone",
        f"os:{uname.sysname} {uname.release} {uname.machine}",
        f"arch_bits:{64 if sys.maxsize > 2**32 else 32}",
        "monotonic_clock:POSIX clock_gettime",
        "multiplexing_api:epoll",
        "atomicvar_api:c11-builtin",
        f"gcc_version:{platform.python_version()}",
        f"process_id:{server.pid}",
        "process_supervised:no",
        f"run_id:{server.run_id}",
        f"tcp_port:{server.port}",
        f"server_time_usec:{int(now * 1_000_000)}",
        f"uptime_in_seconds:{uptime}",
        f"uptime_in_days:{uptime // 86400}",
        f"hz:{cfg['hz']}",
        f"configured_hz:{cfg['hz']}",
        f"lru_clock:{int(now) & ((1 << 24) - 1)}",
        f"executable:{os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else sys.executable}",
        f"config_file:{cfg.config_file or ''}",
        "io_threads_active:0",
    ]


def _info_clients(server: Server) -> list[str]:
    clients = list(server.clients.values())
    tracking = sum(1 for c in clients if c.tracking is not None)
    pubsub = sum(1 for c in clients if c.channels or c.patterns or c.shard_channels)
    watching = sum(1 for c in clients if c.watched)
    watched_keys = sum(len(db.watched_keys) for db in server.dbs)
    blocking_keys = sum(len(db.blocking_keys) for db in server.dbs)
    return [
        f"connected_clients:{sum(1 for c in clients if not c.is_replica)}",
        "cluster_connections:0",
        f"maxclients:{server.config['maxclients']}",
        "client_recent_max_input_buffer:0",
        "client_recent_max_output_buffer:0",
        f"blocked_clients:{server.blocked_clients}",
        f"tracking_clients:{tracking}",
        f"pubsub_clients:{pubsub}",
        f"watching_clients:{watching}",
        "clients_in_timeout_table:0",
        f"total_watched_keys:{watched_keys}",
        f"total_blocking_keys:{blocking_keys}",
        "total_blocking_keys_on_nokey:0",
    ]


def _info_memory(server: Server) -> list[str]:
    used = rss_bytes()
    peak = _peak_memory(server, used)
    startup = int(server.extensions.get("used_memory_startup", used))
    server.extensions.setdefault("used_memory_startup", startup)
    total = _total_system_memory()
    maxmemory = server.config["maxmemory"]
    dataset = max(0, used - startup)
    return [
        f"used_memory:{used}",
        f"used_memory_human:{_human(used)}",
        f"used_memory_rss:{used}",
        f"used_memory_rss_human:{_human(used)}",
        f"used_memory_peak:{peak}",
        f"used_memory_peak_human:{_human(peak)}",
        f"used_memory_peak_perc:{100.0 * used / peak if peak else 100.0:.2f}%",
        f"used_memory_overhead:{startup}",
        f"used_memory_startup:{startup}",
        f"used_memory_dataset:{dataset}",
        f"used_memory_dataset_perc:{100.0 * dataset / used if used else 0.0:.2f}%",
        f"allocator_allocated:{used}",
        f"allocator_active:{used}",
        f"allocator_resident:{used}",
        f"total_system_memory:{total}",
        f"total_system_memory_human:{_human(total)}",
        "used_memory_lua:31744",
        "used_memory_vm_eval:31744",
        "used_memory_lua_human:31.00K",
        "used_memory_scripts_eval:0",
        "number_of_cached_scripts:0",
        "number_of_functions:0",
        "number_of_libraries:0",
        "used_memory_vm_functions:32768",
        "used_memory_vm_total:64512",
        "used_memory_vm_total_human:63.00K",
        "used_memory_functions:184",
        "used_memory_scripts:184",
        "used_memory_scripts_human:184B",
        f"maxmemory:{maxmemory}",
        f"maxmemory_human:{_human(maxmemory)}",
        f"maxmemory_policy:{server.config['maxmemory-policy']}",
        "allocator_frag_ratio:1.00",
        "allocator_frag_bytes:0",
        "allocator_rss_ratio:1.00",
        "allocator_rss_bytes:0",
        "rss_overhead_ratio:1.00",
        "rss_overhead_bytes:0",
        "mem_fragmentation_ratio:1.00",
        "mem_fragmentation_bytes:0",
        "mem_not_counted_for_evict:0",
        "mem_replication_backlog:0",
        "mem_total_replication_buffers:0",
        "mem_clients_slaves:0",
        "mem_clients_normal:0",
        "mem_cluster_links:0",
        "mem_aof_buffer:0",
        "mem_allocator:libc",
        "active_defrag_running:0",
        "lazyfree_pending_objects:0",
        "lazyfreed_objects:0",
    ]


def _info_persistence(server: Server) -> list[str]:
    hook = server.extensions.get("info_persistence")
    if hook is not None:
        return list(hook())
    cfg = server.config
    now = time.time()
    snaps = server.extensions.get("snapshots")
    aof = server.extensions.get("aof")
    child = int(getattr(snaps, "child_pid", 0) or 0)
    changes = server.dirty - int(getattr(snaps, "dirty_at_save", 0) or 0)
    aof_child = int(getattr(aof, "rewrite_child", 0) or 0)
    aof_on = bool(getattr(aof, "enabled", False)) if aof is not None else bool(cfg["appendonly"])

    def ok(flag: Any) -> str:
        return "ok" if flag is None or flag else "err"

    return [
        f"loading:{int(server.loading or bool(getattr(snaps, 'loading', False)))}",
        "async_loading:0",
        "current_cow_peak:0",
        "current_cow_size:0",
        "current_cow_size_age:0",
        "current_fork_perc:0.00",
        "current_save_keys_processed:0",
        "current_save_keys_total:0",
        f"rdb_changes_since_last_save:{max(0, changes)}",
        f"rdb_bgsave_in_progress:{int(bool(child))}",
        f"rdb_last_save_time:{getattr(snaps, 'lastsave', server.lastsave)}",
        f"rdb_last_bgsave_status:{ok(getattr(snaps, 'last_bgsave_ok', None))}",
        f"rdb_last_bgsave_time_sec:{getattr(snaps, 'last_bgsave_time_sec', -1)}",
        f"rdb_current_bgsave_time_sec:{int(now - getattr(snaps, 'child_started', now)) if child else -1}",
        f"rdb_saves:{getattr(snaps, 'saves', 0)}",
        "rdb_last_cow_size:0",
        "rdb_last_load_keys_expired:0",
        f"rdb_last_load_keys_loaded:{getattr(snaps, 'last_load_keys', 0)}",
        f"aof_enabled:{int(aof_on)}",
        f"aof_rewrite_in_progress:{int(bool(aof_child))}",
        f"aof_rewrite_scheduled:{int(bool(getattr(aof, 'rewrite_scheduled', False)))}",
        f"aof_last_rewrite_time_sec:{getattr(aof, 'last_rewrite_time_sec', -1)}",
        f"aof_current_rewrite_time_sec:{int(now - getattr(aof, 'rewrite_started', now)) if aof_child else -1}",
        f"aof_last_bgrewrite_status:{ok(getattr(aof, 'last_rewrite_ok', None))}",
        f"aof_rewrites:{getattr(aof, 'rewrites', 0)}",
        "aof_rewrites_consecutive_failures:0",
        f"aof_last_write_status:{ok(getattr(aof, 'last_write_ok', None))}",
        "aof_last_cow_size:0",
        "module_fork_in_progress:0",
        "module_fork_last_cow_size:0",
    ] + (
        [
            f"aof_current_size:{getattr(aof, 'current_size', 0)}",
            f"aof_base_size:{getattr(aof, 'base_size_at_rewrite', 0)}",
            "aof_pending_rewrite:0",
            "aof_buffer_length:0",
            "aof_pending_bio_fsync:0",
            f"aof_delayed_fsync:{getattr(aof, 'delayed_fsync', 0)}",
        ]
        if aof_on
        else []
    )


def _info_stats(server: Server) -> list[str]:
    s = server.stats
    pubsub = server.extensions.get("pubsub")
    channels = int(getattr(pubsub, "pubsub_channels", 0)) if pubsub is not None else 0
    patterns = int(getattr(pubsub, "pubsub_patterns", 0)) if pubsub is not None else 0
    shard = int(getattr(pubsub, "pubsubshard_channels", 0)) if pubsub is not None else 0
    tracking = server.extensions.get("tracking")
    tracked_keys = int(getattr(tracking, "tracking_total_keys", 0)) if tracking is not None else 0
    tracked_items = int(getattr(tracking, "tracking_total_items", 0)) if tracking is not None else 0
    tracked_prefixes = int(getattr(tracking, "tracking_total_prefixes", 0)) if tracking is not None else 0
    denied = server.extensions.get("acl_denied", {})
    return [
        f"total_connections_received:{s.total_connections_received}",
        f"total_commands_processed:{s.total_commands_processed}",
        f"instantaneous_ops_per_sec:{int(s.instantaneous_ops)}",
        f"total_net_input_bytes:{s.total_net_input_bytes}",
        f"total_net_output_bytes:{s.total_net_output_bytes}",
        "total_net_repl_input_bytes:0",
        "total_net_repl_output_bytes:0",
        f"instantaneous_input_kbps:{s.instantaneous_input_kbps:.2f}",
        f"instantaneous_output_kbps:{s.instantaneous_output_kbps:.2f}",
        "instantaneous_input_repl_kbps:0.00",
        "instantaneous_output_repl_kbps:0.00",
        f"rejected_connections:{s.rejected_connections}",
        f"sync_full:{getattr(server.extensions.get('replication'), 'sync_full', 0)}",
        f"sync_partial_ok:{getattr(server.extensions.get('replication'), 'sync_partial_ok', 0)}",
        f"sync_partial_err:{getattr(server.extensions.get('replication'), 'sync_partial_err', 0)}",
        f"expired_keys:{s.expired_keys}",
        f"expired_stale_perc:{s.expired_stale_perc:.2f}",
        f"expired_time_cap_reached_count:{s.expired_time_cap_reached_count}",
        "expire_cycle_cpu_milliseconds:0",
        f"evicted_keys:{s.evicted_keys}",
        f"evicted_clients:{s.evicted_clients}",
        "total_eviction_exceeded_time:0",
        "current_eviction_exceeded_time:0",
        f"keyspace_hits:{s.keyspace_hits}",
        f"keyspace_misses:{s.keyspace_misses}",
        f"pubsub_channels:{channels}",
        f"pubsub_patterns:{patterns}",
        f"pubsubshard_channels:{shard}",
        "latest_fork_usec:0",
        "total_forks:0",
        "migrate_cached_sockets:0",
        "slave_expires_tracked_keys:0",
        "active_defrag_hits:0",
        "active_defrag_misses:0",
        "active_defrag_key_hits:0",
        "active_defrag_key_misses:0",
        "total_active_defrag_time:0",
        "current_active_defrag_time:0",
        f"tracking_total_keys:{tracked_keys}",
        f"tracking_total_items:{tracked_items}",
        f"tracking_total_prefixes:{tracked_prefixes}",
        f"unexpected_error_replies:{s.unexpected_error_replies}",
        f"total_error_replies:{s.total_error_replies}",
        "dump_payload_sanitizations:0",
        f"total_reads_processed:{s.total_reads_processed}",
        f"total_writes_processed:{s.total_writes_processed}",
        "io_threaded_reads_processed:0",
        "io_threaded_writes_processed:0",
        f"client_query_buffer_limit_disconnections:{s.client_query_buffer_limit_disconnections}",
        f"client_output_buffer_limit_disconnections:{s.client_output_buffer_limit_disconnections}",
        "reply_buffer_shrinks:0",
        "reply_buffer_expands:0",
        f"acl_access_denied_auth:{denied.get('auth', 0) if isinstance(denied, dict) else 0}",
        f"acl_access_denied_cmd:{denied.get('cmd', 0) if isinstance(denied, dict) else 0}",
        f"acl_access_denied_key:{denied.get('key', 0) if isinstance(denied, dict) else 0}",
        f"acl_access_denied_channel:{denied.get('channel', 0) if isinstance(denied, dict) else 0}",
    ]


def _info_replication(server: Server) -> list[str]:
    from snakedis.commands.replication import info_lines

    return info_lines(server)


def _info_cpu(server: Server) -> list[str]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [
        f"used_cpu_sys:{me.ru_stime:.6f}",
        f"used_cpu_user:{me.ru_utime:.6f}",
        f"used_cpu_sys_children:{ch.ru_stime:.6f}",
        f"used_cpu_user_children:{ch.ru_utime:.6f}",
        f"used_cpu_sys_main_thread:{me.ru_stime:.6f}",
        f"used_cpu_user_main_thread:{me.ru_utime:.6f}",
    ]


def _all_commands(server: Server) -> list[Command]:
    out: list[Command] = []
    for cmd in server.table.by_name.values():
        if cmd.subcommands:
            out.extend(cmd.subcommands.values())
        out.append(cmd)
    return out


def _info_commandstats(server: Server) -> list[str]:
    lines = []
    for cmd in _all_commands(server):
        st = cmd.stats
        if not (st.calls or st.failed_calls or st.rejected_calls):
            continue
        per = st.usec / st.calls if st.calls else 0.0
        lines.append(
            f"cmdstat_{cmd.name}:calls={st.calls},usec={st.usec},usec_per_call={per:.2f},"
            f"rejected_calls={st.rejected_calls},failed_calls={st.failed_calls}"
        )
    return lines


def _info_errorstats(server: Server) -> list[str]:
    return [f"errorstat_{code}:count={n}" for code, n in sorted(server.stats.errors.items())]


def _percentile_label(p: float) -> str:
    text = f"{p:f}".rstrip("0").rstrip(".")
    return text


def _info_latencystats(server: Server) -> list[str]:
    percentiles = server.config["latency-tracking-info-percentiles"]
    lines = []
    for cmd in _all_commands(server):
        h = cmd.stats.histogram
        if not h.count:
            continue
        parts = ",".join(f"p{_percentile_label(p)}={h.percentile_usec(p):.3f}" for p in percentiles)
        lines.append(f"latency_percentiles_usec_{cmd.name}:{parts}")
    return lines


def _avg_ttl(server: Server, db: Any) -> int:
    if not db.expires:
        return 0
    now = server.clock() * 1000
    sample = db.sample_expires(20)
    ttls = [db.expires[k] - now for k in sample if k in db.expires]
    ttls = [t for t in ttls if t > 0]
    return int(sum(ttls) / len(ttls)) if ttls else 0


def _info_keyspace(server: Server) -> list[str]:
    return [
        f"db{db.id}:keys={len(db.data)},expires={len(db.expires)},avg_ttl={_avg_ttl(server, db)}"
        for db in server.dbs
        if db.data
    ]


def _info_cluster(server: Server) -> list[str]:
    return ["cluster_enabled:0"]


def _info_modules(server: Server) -> list[str]:
    return []


# (name, header, generator, in default set)
_SECTIONS: Final = (
    ("server", "Server", _info_server, True),
    ("clients", "Clients", _info_clients, True),
    ("memory", "Memory", _info_memory, True),
    ("persistence", "Persistence", _info_persistence, True),
    ("stats", "Stats", _info_stats, True),
    ("replication", "Replication", _info_replication, True),
    ("cpu", "CPU", _info_cpu, True),
    ("modules", "Modules", _info_modules, True),
    ("commandstats", "Commandstats", _info_commandstats, False),
    ("errorstats", "Errorstats", _info_errorstats, True),
    ("latencystats", "Latencystats", _info_latencystats, False),
    ("cluster", "Cluster", _info_cluster, True),
    ("keyspace", "Keyspace", _info_keyspace, True),
)
_DEFAULT: Final = frozenset(name for name, _, _, default in _SECTIONS if default)
_ALL: Final = frozenset(name for name, _, _, _ in _SECTIONS)


def info_text(server: Server, sections: list[bytes]) -> bytes:
    """The INFO report for the requested sections (Redis's ``genRedisInfoString``)."""
    wanted: set[str] = set()
    if not sections:
        wanted = set(_DEFAULT)
    for raw in sections:
        name = raw.decode("utf-8", "replace").lower()
        if name == "default":
            wanted |= _DEFAULT
        elif name in ("all", "everything"):
            wanted |= _ALL
        else:
            wanted.add(name)
    parts: list[str] = []
    for name, header, gen, _ in _SECTIONS:
        if name not in wanted:
            continue
        if parts:
            parts.append("")
        parts.append(f"# {header}")
        parts.extend(gen(server))
    if not parts:
        return b""
    return ("\r\n".join(parts) + "\r\n").encode()


@command("info", -1, "loading stale", categories="@dangerous")
def info(client: Client, args: list[bytes]) -> Any:
    """INFO [section ...] -> the server report as a (verbatim) string."""
    return Verbatim(info_text(client.server, args[1:]))


# ---------------------------------------------------------------------------------- CONFIG

GROUP.container("config", -2)


@command("config|get", -3, "admin noscript loading stale", categories="")
def config_get(client: Client, args: list[bytes]) -> Any:
    """CONFIG GET pattern [pattern ...] -> map of parameter to value."""
    patterns = [a.decode("utf-8", "surrogateescape") for a in args[2:]]
    found = client.server.config.get_matching(patterns)
    return {k.encode("utf-8", "surrogateescape"): v.encode("utf-8", "surrogateescape") for k, v in found.items()}


@command("config|set", -4, "admin noscript loading stale", categories="")
def config_set(client: Client, args: list[bytes]) -> Any:
    """CONFIG SET parameter value [parameter value ...] -> OK; all or nothing."""
    if len(args) % 2:
        raise syntax()
    cfg = client.server.config
    parsed: list[tuple[Any, Any]] = []
    seen: set[str] = set()
    for i in range(2, len(args), 2):
        name = args[i].decode("utf-8", "surrogateescape")
        canon = cfg.canonical(name)
        param = PARAMS.get(canon)
        if param is None:
            raise err(f"Unknown option or number of arguments for CONFIG SET - '{name}'")
        if param.immutable:
            raise err(f"CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config")
        if param.protected and not _protected_allowed(client, cfg["enable-protected-configs"]):
            raise err(f"CONFIG SET failed (possibly related to argument '{name}') - can't set protected config")
        if canon in seen:
            raise err(f"CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter")
        seen.add(canon)
        parsed.append((name, param))
    values: list[tuple[Any, Any]] = []
    for (name, param), i in zip(parsed, range(3, len(args), 2), strict=True):
        try:
            _, value = cfg.parse_value(param.name, args[i].decode("utf-8", "surrogateescape"))
        except ConfigError as e:
            raise err(f"CONFIG SET failed (possibly related to argument '{name}') - {e}") from None
        values.append((param, value))
    old = [(param, cfg.values[param.name]) for param, _ in values]
    try:
        for param, value in values:
            cfg.set_value(param, value)
    except ConfigError as e:  # an apply hook refused: restore everything
        for param, value in old:
            cfg.set_value(param, value)
        raise err(f"CONFIG SET failed - {e}") from None
    return OK


@command("config|resetstat", 2, "admin noscript loading stale", categories="")
def config_resetstat(client: Client, args: list[bytes]) -> Any:
    """CONFIG RESETSTAT -> OK (INFO stats, errorstats, commandstats and latency histograms)."""
    reset_stats(client.server)
    return OK


def reset_stats(server: Server) -> None:
    server.stats.reset()
    for cmd in server.table.all_commands():
        cmd.stats.reset()
    server.extensions.pop("used_memory_peak", None)
    for hook in server.extensions.get("resetstat_hooks", ()):
        hook()


@command("config|rewrite", 2, "admin noscript loading stale", categories="")
def config_rewrite(client: Client, args: list[bytes]) -> Any:
    """CONFIG REWRITE -> OK; rewrites the config file keeping its comments."""
    cfg = client.server.config
    if not cfg.config_file:
        raise err("The server is running without a config file")
    try:
        cfg.rewrite()
    except OSError as e:
        raise err(f"Rewriting config file: {e.strerror}") from None
    return OK


_CONFIG_HELP: Final = """
CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
GET <pattern>
    Return parameters matching the glob-like <pattern> and their values.
SET <directive> <value>
    Set the configuration <directive> to <value>.
RESETSTAT
    Reset statistics reported by the INFO command.
REWRITE
    Rewrite the configuration file.
HELP
    Prints this help.
"""


@command("config|help", 2, "loading stale", categories="")
def config_help(client: Client, args: list[bytes]) -> Any:
    """CONFIG HELP -> help lines."""
    return help_reply(_CONFIG_HELP)


# ---------------------------------------------------------------------------------- small ones


@command("dbsize", 1, "readonly fast", categories="@keyspace")
def dbsize(client: Client, args: list[bytes]) -> Any:
    """DBSIZE -> number of keys in the selected database."""
    return len(client.db.data)


@command("time", 1, "loading stale fast", categories="")
def time_cmd(client: Client, args: list[bytes]) -> Any:
    """TIME -> [unix seconds, microseconds] as bulk strings."""
    now = time.time()
    sec = int(now)
    return [b"%d" % sec, b"%d" % int((now - sec) * 1_000_000)]


@command("lastsave", 1, "loading stale fast", categories="@admin @dangerous")
def lastsave(client: Client, args: list[bytes]) -> Any:
    """LASTSAVE -> unix time of the last successful save."""
    return client.server.lastsave


@command("lolwut", -1, "readonly fast", categories="")
def lolwut(client: Client, args: list[bytes]) -> Any:
    """LOLWUT [VERSION version] -> a version line."""
    return Verbatim(f"Redis ver. {REDIS_VERSION}\n".encode())


@command("shutdown", -1, "admin noscript loading stale no_multi sentinel allow_busy", categories="")
def shutdown(client: Client, args: list[bytes]) -> Any:
    """SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] -> no reply; the server exits."""
    from snakedis.server.dispatch import NO_REPLY

    nosave = save = abort = force = False
    for a in args[1:]:
        low = a.lower()
        if low == b"nosave":
            nosave = True
        elif low == b"save":
            save = True
        elif low == b"now":
            pass
        elif low == b"force":
            force = True
        elif low == b"abort":
            abort = True
        else:
            raise syntax()
    if (nosave and save) or (abort and len(args) > 2):
        raise syntax()
    if abort:
        raise err("No shutdown in progress.")
    server = client.server
    do_save = save or (not nosave and bool(server.config["save"]))
    saver = server.extensions.get("shutdown_save")
    if saver is not None:
        error = saver(do_save)
        if error and not force:
            raise err(error)
    server.log("User requested shutdown...", "warning")
    server.request_shutdown()
    client.close_after_reply = True
    return NO_REPLY


# ---------------------------------------------------------------------------------- DEBUG


def _elements(value: Any) -> tuple[bool, list[Any]]:
    """(ordered, elements) of a collection value, by its TYPE name."""
    kind = type_name(value)
    if kind == b"hash":
        return False, list(value.items())
    if kind == b"set":
        items = value.items
        return False, list(items() if callable(items) else items)
    if kind == b"zset":
        return False, [(member, score) for score, member in value]
    if hasattr(value, "__iter__"):
        return True, list(value)
    return True, [repr(sorted(vars(value).items())) if hasattr(value, "__dict__") else repr(value)]


def _digest_value(value: Any) -> bytes:
    """A 20-byte digest of a value: equal contents give equal digests, whatever the encoding
    or insertion order of unordered types (sets, hashes)."""
    t = type(value)
    if t is bytes or t is bytearray:
        return hashlib.sha1(b"string\x00" + bytes(value)).digest()
    if t is tuple:
        return hashlib.sha1(b"".join(_digest_value(x) for x in value)).digest()
    if t is float or t is int or t is str:
        return hashlib.sha1(repr(value).encode()).digest()
    ordered, elements = _elements(value)
    h = hashlib.sha1(type_name(value) + b"\x00")
    if ordered:
        for item in elements:
            h.update(_digest_value(item))
    else:
        acc = 0
        for item in elements:
            acc ^= int.from_bytes(_digest_value(item), "big")
        h.update(acc.to_bytes(20, "big"))
    return h.digest()


def _digest_key(key: bytes, value: Any, expire: int | None) -> bytes:
    h = hashlib.sha1(key + b"\x00" + _digest_value(value))
    if expire is not None:
        h.update(b"!!expire!!" + str(expire).encode())
    return h.digest()


def db_digest(server: Server) -> bytes:
    """DEBUG DIGEST: 40 zeros for an empty server, else a hex digest of every db."""
    acc = bytearray(20)
    empty = True
    for db in server.dbs:
        if not db.data:
            continue
        empty = False
        db_acc = bytearray(20)
        for key, value in db.data.items():
            d = _digest_key(key, value, db.expires.get(key))
            db_acc = bytearray(a ^ b for a, b in zip(db_acc, d, strict=True))
        d = hashlib.sha1(b"db%d" % db.id + bytes(db_acc)).digest()
        acc = bytearray(a ^ b for a, b in zip(acc, d, strict=True))
    return b"0" * 40 if empty else bytes(acc).hex().encode()


def _protected_allowed(client: Client, mode: str) -> bool:
    """Redis's ``allowProtectedAction``: yes, or local and the client is on loopback/unix."""
    if mode == "yes":
        return True
    if mode == "local":
        host = client.addr.rsplit(b":", 1)[0]
        return host in (b"127.0.0.1", b"::1", b"[::1]") or client.addr.startswith(b"/") or not client.addr
    return False


def _debug_allowed(client: Client) -> bool:
    return _protected_allowed(client, client.server.config["enable-debug-command"])


_DEBUG_DENIED: Final = (
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it '
    "from a local connection, otherwise you need to set this option in the configuration file, and then "
    "restart the server."
)


def _sleep_seconds(text: bytes) -> float:
    try:
        v = float(text)
    except ValueError:
        return 0.0
    return v if v == v and v > 0 else 0.0


@command("debug", -2, "admin noscript loading stale protected", categories="")
def debug(client: Client, args: list[bytes]) -> Any:
    """DEBUG subcommand [arg ...] -> depends on the subcommand (testing aid)."""
    if not _debug_allowed(client):
        raise CommandError(_DEBUG_DENIED)
    server = client.server
    sub = args[1].lower()
    n = len(args)
    if sub == b"help":
        return help_reply(_DEBUG_HELP)
    if sub == b"sleep" and n == 3:
        time.sleep(_sleep_seconds(args[2]))
        return OK
    if sub == b"set-active-expire" and n == 3:
        server.active_expire_enabled = _atoi(args[2]) != 0
        return OK
    if sub == b"object" and n == 3:
        value = client.db.lookup(args[2])
        if value is None:
            raise err("no such key")
        enc = value_encoding(value, server.config).decode()
        size = len(value) if type(value) in (bytes, bytearray) else 1
        return Simple(
            b"Value at:0x%x refcount:1 encoding:%s serializedlength:%d lru:%d lru_seconds_idle:0"
            % (id(value), enc.encode(), size + 1, int(time.time()) & ((1 << 24) - 1))
        )
    if sub == b"digest" and n == 2:
        return Simple(db_digest(server))
    if sub == b"digest-value" and n >= 2:
        out = []
        for key in args[2:]:
            value = client.db.lookup(key)
            out.append(Simple(b"0" * 40 if value is None else _digest_value(value).hex().encode()))
        return out
    if sub == b"populate" and 3 <= n <= 5:
        return _populate(client, args)
    if sub == b"change-repl-id" and n == 2:
        from snakedis.replication.primary import install as replication_state

        primary = replication_state(server)
        primary.replid2 = primary.replid
        primary.replid = os.urandom(20).hex()
        return OK
    if sub == b"quicklist-packed-threshold" and n == 3:
        from snakedis.config import parse_memory

        try:
            size = parse_memory(args[2].decode("utf-8", "replace"))
        except ConfigError:
            size = -1
        if not 0 <= size <= 4 * 1024**3:
            raise err("argument must be a memory value bigger than 1 and smaller than 4gb")
        server.extensions["quicklist_packed_threshold"] = size or 1024**3
        return OK
    if sub == b"log" and n == 3:
        server.log("DEBUG LOG: " + args[2].decode("utf-8", "replace"), "warning")
        return OK
    if sub == b"error" and n == 3:
        from snakedis.protocol.resp import ErrorReply

        return ErrorReply(args[2])
    if sub == b"reload":
        hook = server.extensions.get("debug_reload")
        if hook is not None:
            return hook(client, args[2:])
        return _debug_reload(server, args[2:])
    if sub == b"protocol" and n == 3:
        return _debug_protocol(client, args[2].lower())
    if sub == b"jmap":
        return OK
    hook = server.extensions.get("debug_" + sub.decode("utf-8", "replace"))
    if hook is not None:
        return hook(client, args)
    name = args[1].decode("utf-8", "replace")
    raise err(f"unknown subcommand or wrong number of arguments for '{name}'. Try DEBUG HELP.")


def _debug_reload(server: Server, options: list[bytes]) -> Any:
    """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the RDB, empty the dataset, load it back."""
    opts = {o.lower() for o in options}
    if not opts <= {b"merge", b"noflush", b"nosave"}:
        raise err("DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    snaps = server.extensions.get("snapshots")
    if snaps is None:
        from snakedis.persistence import snapshots

        snaps = snapshots.install(server)
    try:
        if b"nosave" not in opts:
            snaps.save()
        if b"noflush" not in opts:
            for db in server.dbs:
                db.clear()
            server.signal_flushed_db(-1)
        from snakedis.persistence import rdb

        with open(snaps.path(), "rb") as f:
            rdb.load_rdb(f.read(), server, server.extensions.get("functions_load_rdb"))
    except Exception as e:  # noqa: BLE001 - any load failure is Redis's one error
        server.log(f"DEBUG RELOAD failed: {e}", "warning")
        raise err("Error trying to load the RDB dump, check server logs.") from None
    server.log("DB reloaded by DEBUG RELOAD")
    return OK


_PROTOCOL_REPLIES: Final = {
    b"string": (b"$11\r\nHello World\r\n", None),
    b"integer": (b":12345\r\n", None),
    b"double": (b"$5\r\n3.141\r\n", b",3.141\r\n"),
    b"bignum": (b"$37\r\n1234567999999999999999999999999999999\r\n", b"(1234567999999999999999999999999999999\r\n"),
    b"null": (b"$-1\r\n", b"_\r\n"),
    b"array": (b"*3\r\n:0\r\n:1\r\n:2\r\n", None),
    b"set": (b"*3\r\n:0\r\n:1\r\n:2\r\n", b"~3\r\n:0\r\n:1\r\n:2\r\n"),
    b"map": (b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n", b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"),
    b"attrib": (
        b"$39\r\nSome real reply following the attribute\r\n",
        b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
    ),
    b"push": (
        b"-ERR RESP2 is not supported by this command\r\n",
        b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
    ),
    b"verbatim": (b"$25\r\nThis is a verbatim\nstring\r\n", b"=29\r\ntxt:This is a verbatim\nstring\r\n"),
    b"true": (b":1\r\n", b"#t\r\n"),
    b"false": (b":0\r\n", b"#f\r\n"),
}


def _debug_protocol(client: Client, kind: bytes) -> Any:
    """DEBUG PROTOCOL type: a sample reply of each RESP type, as Redis sends it."""
    pair = _PROTOCOL_REPLIES.get(kind)
    if pair is None:
        raise err(
            "Wrong protocol type name. Please use one of the following: "
            "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
        )
    resp2, resp3 = pair
    if kind == b"push" and client.protover == 2:
        raise err("RESP2 is not supported by this command")
    return Raw(resp3 if client.protover == 3 and resp3 is not None else resp2)


def _atoi(text: bytes) -> int:
    digits = b""
    s = text.lstrip()
    sign = 1
    if s[:1] in (b"-", b"+"):
        sign = -1 if s[:1] == b"-" else 1
        s = s[1:]
    for c in s:
        if 48 <= c <= 57:
            digits += bytes((c,))
        else:
            break
    return sign * int(digits) if digits else 0


def _positive(text: bytes) -> int:
    try:
        v = parse_int(text)
    except CommandError:
        v = -1
    if v < 0:
        raise err("value is out of range, must be positive")
    return v


def _populate(client: Client, args: list[bytes]) -> Any:
    count = _positive(args[2])
    prefix = args[3] if len(args) > 3 else b"key"
    size = _positive(args[4]) if len(args) > 4 else 0
    db = client.db
    data = db.data
    for i in range(count):
        key = b"%s:%d" % (prefix, i)
        if db.lookup(key) is not None:
            continue
        value = b"value:%d" % i
        if size:
            value = value[:size].ljust(size, b"\x00")
        data[key] = value
    return OK


_DEBUG_HELP: Final = """
DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
CHANGE-REPL-ID
    Change the replication IDs of the instance.
    Dangerous: should be used only for testing the replication subsystem.
DIGEST
    Output a hex signature representing the current DB content.
DIGEST-VALUE <key> [<key> ...]
    Output a hex signature of the values of all the specified keys.
ERROR <string>
    Return a Redis protocol error with <string> as message. Useful for clients
    unit tests to simulate Redis errors.
LOG <message>
    Write <message> to the server log.
OBJECT <key>
    Show low level info about `key` and associated value.
POPULATE <count> [<prefix>] [<size>]
    Create <count> string keys named key:<num>. If <prefix> is specified then
    it is used instead of the 'key' prefix. These are not propagated to
    replicas. Cluster slots are not respected so keys not belonging to the
    current node can be created in cluster mode.
RELOAD [option ...]
    Save the RDB on disk and reload it back to memory.
SET-ACTIVE-EXPIRE <0|1>
    Setting it to 0 disables expiring keys in background when they are not
    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the
    default.
QUICKLIST-PACKED-THRESHOLD <size>
    Sets the threshold for elements to be inserted as plain vs packed nodes
    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.
SLEEP <seconds>
    Stop the server for <seconds>. Decimals allowed.
HELP
    Prints this help.
"""


# ---------------------------------------------------------------------------------- SLOWLOG

GROUP.container("slowlog", -2)


@command("slowlog|get", -2, "admin loading stale", categories="")
def slowlog_get(client: Client, args: list[bytes]) -> Any:
    """SLOWLOG GET [count] -> newest entries: [id, time, usec, argv, peer, name]."""
    count = 10
    if len(args) > 3:
        sub = args[1].decode("utf-8", "replace")
        raise err(f"unknown subcommand or wrong number of arguments for '{sub}'. Try SLOWLOG HELP.")
    if len(args) == 3:
        try:
            count = parse_int(args[2])
        except CommandError:
            count = -2
        if count < -1:
            raise err("count should be greater than or equal to -1")
        if count == -1:
            count = len(client.server.slowlog.entries)
    out = []
    for i, e in enumerate(client.server.slowlog.entries):
        if i >= count:
            break
        out.append([e.id, e.timestamp, e.duration_us, list(e.argv), e.peer, e.name])
    return out


@command("slowlog|len", 2, "admin loading stale", categories="")
def slowlog_len(client: Client, args: list[bytes]) -> Any:
    """SLOWLOG LEN -> number of entries."""
    return len(client.server.slowlog.entries)


@command("slowlog|reset", 2, "admin loading stale", categories="")
def slowlog_reset(client: Client, args: list[bytes]) -> Any:
    """SLOWLOG RESET -> OK."""
    client.server.slowlog.reset()
    return OK


_SLOWLOG_HELP: Final = """
SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
GET [<count>]
    Return top <count> entries from the slowlog (default: 10, -1 mean all).
    Entries are made of:
    id, timestamp, time in microseconds, arguments array, client IP and port,
    client name
LEN
    Return the length of the slowlog.
RESET
    Reset the slowlog.
HELP
    Prints this help.
"""


@command("slowlog|help", 2, "loading stale", categories="")
def slowlog_help(client: Client, args: list[bytes]) -> Any:
    """SLOWLOG HELP -> help lines."""
    return help_reply(_SLOWLOG_HELP)


# ---------------------------------------------------------------------------------- LATENCY

GROUP.container("latency", -2)


@command("latency|latest", 2, "admin noscript loading stale", categories="")
def latency_latest(client: Client, args: list[bytes]) -> Any:
    """LATENCY LATEST -> [[event, unix time, latest ms, max ms] ...]."""
    out = []
    for name, ev in client.server.latency.events.items():
        if not ev.samples:
            continue
        t, ms = ev.samples[-1]
        out.append([name.encode(), t, ms, ev.max_ms])
    return out


@command("latency|history", 3, "admin noscript loading stale", categories="")
def latency_history(client: Client, args: list[bytes]) -> Any:
    """LATENCY HISTORY event -> [[unix time, ms] ...]."""
    ev = client.server.latency.events.get(args[2].decode("utf-8", "replace"))
    if ev is None:
        return []
    return [[t, ms] for t, ms in ev.samples]


@command("latency|reset", -2, "admin noscript loading stale", categories="")
def latency_reset(client: Client, args: list[bytes]) -> Any:
    """LATENCY RESET [event ...] -> number of event series reset."""
    names = [a.decode("utf-8", "replace") for a in args[2:]]
    return client.server.latency.reset(names or None)


def _histogram_reply(cmd: Command) -> dict[bytes, Any]:
    h = cmd.stats.histogram
    buckets: dict[int, int] = {}
    cumulative = 0
    top = max((i for i, n in enumerate(h.buckets) if n), default=0)
    for i in range(min(10, top), top + 1):
        if i <= 10:
            cumulative = sum(h.buckets[: i + 1])
            key = 1
        else:
            cumulative += h.buckets[i]
            key = 1 << (i - 10)
        buckets[key] = cumulative
    return {b"calls": cmd.stats.calls, b"histogram_usec": buckets}


@command("latency|histogram", -2, "admin noscript loading stale", categories="")
def latency_histogram(client: Client, args: list[bytes]) -> Any:
    """LATENCY HISTOGRAM [command ...] -> map of command to {calls, histogram_usec}."""
    table = client.server.table
    if len(args) == 2:
        cmds = [c for c in _all_commands(client.server) if c.stats.histogram.count]
    else:
        cmds = []
        for name in args[2:]:
            cmd = table.find(name.decode("utf-8", "replace"))
            if cmd is not None and cmd.stats.histogram.count and cmd not in cmds:
                cmds.append(cmd)
    return {c.name.encode(): _histogram_reply(c) for c in cmds}


_LATENCY_DISABLED: Final = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "
    '"CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren\'t in a deep '
    "space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
)


@command("latency|doctor", 2, "admin noscript loading stale", categories="")
def latency_doctor(client: Client, args: list[bytes]) -> Any:
    """LATENCY DOCTOR -> a human readable report."""
    server = client.server
    if not server.config["latency-monitor-threshold"] and not server.latency.events:
        return Verbatim(_LATENCY_DISABLED.encode())
    events = server.latency.events
    if not events:
        return Verbatim(
            b"Dave, no latency spike was observed during the lifetime of this Redis instance, "
            b"not in the slightest bit. I honestly think you ought to sleep better and restart "
            b"afresh.\n"
        )
    lines = [
        "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?",
        "",
    ]
    for i, (name, ev) in enumerate(events.items(), 1):
        samples = [ms for _, ms in ev.samples]
        avg = sum(samples) // len(samples) if samples else 0
        lines.append(
            f"{i}. {name}: {len(samples)} latency spikes (average {avg}ms, mean deviation 0ms, "
            f"period {0} sec). Worst all time event {ev.max_ms}ms."
        )
    lines += ["", "I have a few advices for you:", "", "- Check your slow commands with SLOWLOG GET.", ""]
    return Verbatim("\n".join(lines).encode())


@command("latency|graph", 3, "admin noscript loading stale", categories="")
def latency_graph(client: Client, args: list[bytes]) -> Any:
    """LATENCY GRAPH event -> an ASCII graph of the event's samples."""
    name = args[2].decode("utf-8", "replace")
    ev = client.server.latency.events.get(name)
    if ev is None or not ev.samples:
        raise err(f"No samples available for event '{name}'")
    samples = list(ev.samples)
    top = max(ms for _, ms in samples) or 1
    low = min(ms for _, ms in samples)
    rows = 4
    grid = []
    for r in range(rows, 0, -1):
        grid.append("".join("#" if ms * rows >= r * top else " " for _, ms in samples))
    now = int(time.time())
    ages = "".join(str(min(9, (now - t) // 60)) for t, _ in samples)
    text = f"{name} - high {top} ms, low {low} ms (all time high {ev.max_ms} ms)\n"
    text += "-" * 80 + "\n" + "\n".join(grid) + "\n" + ages + "\n"
    return Verbatim(text.encode())


_LATENCY_HELP: Final = """
LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
DOCTOR
    Return a human readable latency analysis report.
GRAPH <event>
    Return an ASCII latency graph for the <event> class.
HISTORY <event>
    Return time-latency samples for the <event> class.
LATEST
    Return the latest latency samples for all events.
RESET [<event> ...]
    Reset latency data of one or more <event> classes.
    (default: reset all data for all event classes)
HISTOGRAM [COMMAND ...]
    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.
    If no commands are specified then all histograms are replied.
HELP
    Prints this help.
"""


@command("latency|help", 2, "loading stale", categories="")
def latency_help(client: Client, args: list[bytes]) -> Any:
    """LATENCY HELP -> help lines."""
    return help_reply(_LATENCY_HELP)


# ---------------------------------------------------------------------------------- MEMORY

GROUP.container("memory", -2)


def value_size(value: Any, samples: int = 5) -> int:
    """An honest estimate of a value's memory (sys.getsizeof over its parts, sampled)."""
    size = sys.getsizeof(value)
    t = type(value)
    if t is bytes or t is bytearray:
        return size
    try:
        _, items = _elements(value)
    except Exception:  # noqa: BLE001 - an unknown value type: its own size only
        return size
    if not items:
        return size
    take = items if samples == 0 else items[:samples]
    sampled = 0
    for it in take:
        if isinstance(it, tuple):
            sampled += sum(sys.getsizeof(x) for x in it)
        else:
            sampled += sys.getsizeof(it)
    # Per-element container overhead (dict/list slots) on top of the elements themselves.
    return size + (sampled * len(items)) // len(take) + 16 * len(items)


@command("memory|usage", -3, "readonly", 2, 2, 1, categories="")
def memory_usage(client: Client, args: list[bytes]) -> Any:
    """MEMORY USAGE key [SAMPLES count] -> estimated bytes, or nil."""
    samples = 5
    i = 3
    while i < len(args):
        if args[i].lower() == b"samples" and i + 1 < len(args):
            samples = parse_int(args[i + 1])
            if samples < 0:
                raise syntax()
            i += 2
        else:
            raise syntax()
    value = client.db.lookup(args[2])
    if value is None:
        return None
    return value_size(value, samples) + sys.getsizeof(args[2]) + 16


@command("memory|stats", 2, "", categories="@slow")
def memory_stats(client: Client, args: list[bytes]) -> Any:
    """MEMORY STATS -> map of memory figures."""
    server = client.server
    used = rss_bytes()
    peak = _peak_memory(server, used)
    startup = int(server.extensions.get("used_memory_startup", used))
    keys = sum(len(db.data) for db in server.dbs)
    dataset = max(0, used - startup)
    out: dict[bytes, Any] = {
        b"peak.allocated": peak,
        b"total.allocated": used,
        b"startup.allocated": startup,
        b"replication.backlog": 0,
        b"clients.slaves": 0,
        b"clients.normal": 0,
        b"cluster.links": 0,
        b"aof.buffer": 0,
        b"lua.caches": 0,
        b"functions.caches": 0,
    }
    for db in server.dbs:
        if db.data:
            out[b"db.%d" % db.id] = {
                b"overhead.hashtable.main": 0,
                b"overhead.hashtable.expires": 0,
                b"overhead.hashtable.slot-to-keys": 0,
            }
    out.update(
        {
            b"overhead.total": startup,
            b"keys.count": keys,
            b"keys.bytes-per-key": dataset // keys if keys else 0,
            b"dataset.bytes": dataset,
            b"dataset.percentage": 100.0 * dataset / used if used else 0.0,
            b"peak.percentage": 100.0 * used / peak if peak else 100.0,
            b"allocator.allocated": used,
            b"allocator.active": used,
            b"allocator.resident": used,
            b"allocator-fragmentation.ratio": 1.0,
            b"allocator-fragmentation.bytes": 0,
            b"allocator-rss.ratio": 1.0,
            b"allocator-rss.bytes": 0,
            b"rss-overhead.ratio": 1.0,
            b"rss-overhead.bytes": 0,
            b"fragmentation": 1.0,
            b"fragmentation.bytes": 0,
        }
    )
    return out


def _dataset_estimate(server: Server, stop_at: int) -> int:
    """Estimated bytes of the dataset, counting until ``stop_at`` is reached."""
    total = 0
    for db in server.dbs:
        for key, value in db.data.items():
            total += sys.getsizeof(key) + value_size(value, 1)
            if total >= stop_at:
                return total
    return total


@command("memory|doctor", 2, "", categories="@slow")
def memory_doctor(client: Client, args: list[bytes]) -> Any:
    """MEMORY DOCTOR -> a human readable report."""
    if _dataset_estimate(client.server, 5 * 1024 * 1024) < 5 * 1024 * 1024:
        text = (
            "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used "
            "in these conditions. Please, leave for your mission on Earth and fill it with some data. The new "
            "Sam and I will be back to our programming as soon as I finished rebooting.\n"
        )
    else:
        text = (
            "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
        )
    return Verbatim(text.encode())


@command("memory|malloc-stats", 2, "", categories="@slow")
def memory_malloc_stats(client: Client, args: list[bytes]) -> Any:
    """MEMORY MALLOC-STATS -> allocator report."""
    return Verbatim(b"Stats not supported for the current allocator")


@command("memory|purge", 2, "", categories="@slow")
def memory_purge(client: Client, args: list[bytes]) -> Any:
    """MEMORY PURGE -> OK."""
    import gc

    gc.collect()
    return OK


_MEMORY_HELP: Final = """
MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
DOCTOR
    Return memory problems reports.
MALLOC-STATS
    Return internal statistics report from the memory allocator.
PURGE
    Attempt to purge dirty pages for reclamation by the allocator.
STATS
    Return information about the memory usage of the server.
USAGE <key> [SAMPLES <count>]
    Return memory in bytes used by <key> and its value. Nested values are
    sampled up to <count> times (default: 5, 0 means sample all).
HELP
    Prints this help.
"""


@command("memory|help", 2, "loading stale", categories="")
def memory_help(client: Client, args: list[bytes]) -> Any:
    """MEMORY HELP -> help lines."""
    return help_reply(_MEMORY_HELP)
