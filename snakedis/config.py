"""Server settings: typed parameters, CONFIG GET/SET/REWRITE, and the redis.conf parser.

Every parameter Redis 7.0 has is declared in ``_SPECS`` with its kind and Redis's default, so
``CONFIG GET *`` answers with the same names.  Components read values from ``Config.values``
(a plain dict, cheap on hot paths) and may ``watch`` a name to react to CONFIG SET.  A value is
parsed and validated before anything changes, and CONFIG SET of several parameters is
all-or-nothing, as in Redis.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

# name|kind|default|flags|enum values   (Redis 7.0 defaults; kinds: bool int memory enum
# string octal special)
_SPECS: Final = """
acl-pubsub-default|enum|resetchannels||allchannels resetchannels
aclfile|string||immutable|
acllog-max-len|int|128||
active-defrag-cycle-max|int|25||
active-defrag-cycle-min|int|1||
active-defrag-ignore-bytes|memory|104857600||
active-defrag-max-scan-fields|int|1000||
active-defrag-threshold-lower|int|10||
active-defrag-threshold-upper|int|100||
active-expire-effort|int|1||
activedefrag|bool|no||
activerehashing|bool|yes||
always-show-logo|bool|no|immutable|
aof-disable-auto-gc|bool|no||
aof-load-truncated|bool|yes||
aof-rewrite-incremental-fsync|bool|yes||
aof-timestamp-enabled|bool|no||
aof-use-rdb-preamble|bool|yes||
aof_rewrite_cpulist|string||immutable|
appenddirname|string|appendonlydir|immutable|
appendfilename|string|appendonly.aof|immutable|
appendfsync|enum|everysec||everysec always no
appendonly|bool|no||
auto-aof-rewrite-min-size|memory|67108864||
auto-aof-rewrite-percentage|int|100||
bgsave_cpulist|string||immutable|
bind|special|* -::*||
bind-source-addr|string|||
bio_cpulist|string||immutable|
busy-reply-threshold|int|5000||
client-output-buffer-limit|special|normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60||
client-query-buffer-limit|memory|1073741824||
cluster-allow-pubsubshard-when-down|bool|yes||
cluster-allow-reads-when-down|bool|no||
cluster-allow-replica-migration|bool|yes||
cluster-announce-bus-port|int|0||
cluster-announce-hostname|string|||
cluster-announce-ip|string|||
cluster-announce-port|int|0||
cluster-announce-tls-port|int|0||
cluster-config-file|string|nodes.conf|immutable|
cluster-enabled|bool|no|immutable|
cluster-link-sendbuf-limit|memory|0||
cluster-migration-barrier|int|1||
cluster-node-timeout|int|15000||
cluster-port|int|0|immutable|
cluster-preferred-endpoint-type|enum|ip||ip hostname unknown-endpoint
cluster-replica-no-failover|bool|no||
cluster-replica-validity-factor|int|10||
cluster-require-full-coverage|bool|yes||
crash-log-enabled|bool|yes||
crash-memcheck-enabled|bool|yes||
daemonize|bool|no|immutable|
databases|int|16|immutable|
dbfilename|string|dump.rdb|protected|
dir|string|.|protected|
disable-thp|bool|yes|immutable|
dynamic-hz|bool|yes||
enable-debug-command|enum|no|immutable|no yes local
enable-module-command|enum|no|immutable|no yes local
enable-protected-configs|enum|no|immutable|no yes local
hash-max-listpack-entries|int|512||
hash-max-listpack-value|memory|64||
hll-sparse-max-bytes|memory|3000||
hz|int|10||
ignore-warnings|string|||
io-threads|int|1|immutable|
io-threads-do-reads|bool|no|immutable|
jemalloc-bg-thread|bool|yes||
latency-monitor-threshold|int|0||
latency-tracking|bool|yes||
latency-tracking-info-percentiles|special|50 99 99.9||
lazyfree-lazy-eviction|bool|no||
lazyfree-lazy-expire|bool|no||
lazyfree-lazy-server-del|bool|no||
lazyfree-lazy-user-del|bool|no||
lazyfree-lazy-user-flush|bool|no||
lfu-decay-time|int|1||
lfu-log-factor|int|10||
list-compress-depth|int|0||
list-max-listpack-size|int|-2||
logfile|string||immutable|
loglevel|enum|notice||debug verbose notice warning nothing
masterauth|string|||
masteruser|string|||
maxclients|int|10000||
maxmemory|memory|0||
maxmemory-clients|memory|0||
maxmemory-eviction-tenacity|int|10||
maxmemory-policy|enum|noeviction||volatile-lru volatile-lfu volatile-random volatile-ttl allkeys-lru allkeys-lfu allkeys-random noeviction
maxmemory-samples|int|5||
min-replicas-max-lag|int|10||
min-replicas-to-write|int|0||
no-appendfsync-on-rewrite|bool|no||
notify-keyspace-events|special|||
oom-score-adj|enum|no||no yes relative absolute
oom-score-adj-values|special|0 200 800||
pidfile|string||immutable|
port|int|6379||
proc-title-template|string|{title} {listen-addr} {server-mode}||
propagation-error-behavior|enum|ignore||ignore panic panic-on-replicas
protected-mode|bool|yes||
proto-max-bulk-len|memory|536870912||
rdb-del-sync-files|bool|no||
rdb-save-incremental-fsync|bool|yes||
rdbchecksum|bool|yes|immutable|
rdbcompression|bool|yes||
repl-backlog-size|memory|1048576||
repl-backlog-ttl|int|3600||
repl-disable-tcp-nodelay|bool|no||
repl-diskless-load|enum|disabled||disabled on-empty-db swapdb
repl-diskless-sync|bool|yes||
repl-diskless-sync-delay|int|5||
repl-diskless-sync-max-replicas|int|0||
repl-ping-replica-period|int|10||
repl-timeout|int|60||
replica-announce-ip|string|||
replica-announce-port|int|0||
replica-announced|bool|yes||
replica-ignore-disk-write-errors|bool|no||
replica-ignore-maxmemory|bool|yes||
replica-lazy-flush|bool|no||
replica-priority|int|100||
replica-read-only|bool|yes||
replica-serve-stale-data|bool|yes||
replicaof|special||immutable|
requirepass|string|||
sanitize-dump-payload|enum|no||no yes clients
save|special|3600 1 300 100 60 10000||
server_cpulist|string||immutable|
set-max-intset-entries|int|512||
set-max-listpack-entries|int|128||
set-max-listpack-value|memory|64||
set-proc-title|bool|yes|immutable|
shutdown-on-sigint|enum|default||default save nosave now force
shutdown-on-sigterm|enum|default||default save nosave now force
shutdown-timeout|int|10||
slowlog-log-slower-than|int|10000||
slowlog-max-len|int|128||
socket-mark-id|int|0|immutable|
stop-writes-on-bgsave-error|bool|yes||
stream-node-max-bytes|memory|4096||
stream-node-max-entries|int|100||
supervised|enum|no|immutable|upstart systemd auto no
syslog-enabled|bool|no|immutable|
syslog-facility|enum|local0|immutable|user local0 local1 local2 local3 local4 local5 local6 local7
syslog-ident|string|redis|immutable|
tcp-backlog|int|511|immutable|
tcp-keepalive|int|300||
timeout|int|0||
tls-auth-clients|enum|yes||no yes optional
tls-ca-cert-dir|string|||
tls-ca-cert-file|string|||
tls-cert-file|string|||
tls-ciphers|string|||
tls-ciphersuites|string|||
tls-client-cert-file|string|||
tls-client-key-file|string|||
tls-client-key-file-pass|string|||
tls-cluster|bool|no||
tls-dh-params-file|string|||
tls-key-file|string|||
tls-key-file-pass|string|||
tls-port|int|0||
tls-prefer-server-ciphers|bool|no||
tls-protocols|string|||
tls-replication|bool|no||
tls-session-cache-size|int|20480||
tls-session-cache-timeout|int|300||
tls-session-caching|bool|yes||
tracking-table-max-keys|int|1000000||
unixsocket|string||immutable|
unixsocketperm|octal|0|immutable|
zset-max-listpack-entries|int|128||
zset-max-listpack-value|memory|64||
"""

ALIASES: Final = {
    "hash-max-ziplist-entries": "hash-max-listpack-entries",
    "hash-max-ziplist-value": "hash-max-listpack-value",
    "list-max-ziplist-size": "list-max-listpack-size",
    "zset-max-ziplist-entries": "zset-max-listpack-entries",
    "zset-max-ziplist-value": "zset-max-listpack-value",
    "cluster-slave-no-failover": "cluster-replica-no-failover",
    "cluster-slave-validity-factor": "cluster-replica-validity-factor",
    "min-slaves-max-lag": "min-replicas-max-lag",
    "min-slaves-to-write": "min-replicas-to-write",
    "repl-ping-slave-period": "repl-ping-replica-period",
    "slave-announce-ip": "replica-announce-ip",
    "slave-announce-port": "replica-announce-port",
    "slave-ignore-maxmemory": "replica-ignore-maxmemory",
    "slave-lazy-flush": "replica-lazy-flush",
    "slave-priority": "replica-priority",
    "slave-read-only": "replica-read-only",
    "slave-serve-stale-data": "replica-serve-stale-data",
    "slaveof": "replicaof",
    "lua-time-limit": "busy-reply-threshold",
}

_MEMORY_UNITS: Final = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1024,
    "m": 1000**2,
    "mb": 1024**2,
    "g": 1000**3,
    "gb": 1024**3,
}


class ConfigError(Exception):
    """Why a value was refused; CONFIG SET wraps it in Redis's sentence."""


def parse_memory(text: str) -> int:
    """``1gb`` -> 1073741824, as Redis's ``memtoull``: digits then an optional unit.

    An empty number counts as 0 and values past 2**64-1 saturate, as in Redis.
    """
    t = text.lower()
    i = len(t)
    while i > 0 and t[i - 1].isalpha():
        i -= 1
    num, unit = t[:i], t[i:]
    if unit not in _MEMORY_UNITS or not all(c in "0123456789" for c in num):
        raise ConfigError("argument must be a memory value")
    return min(int(num or "0") * _MEMORY_UNITS[unit], 2**64 - 1)


def _parse_int(text: str) -> int:
    """Redis's ``string2ll``: no sign but ``-``, no spaces, no leading zeros, int64 range."""
    body = text[1:] if text.startswith("-") else text
    if not body or not all(c in "0123456789" for c in body) or (body[0] == "0" and (len(body) > 1 or text != body)):
        raise ConfigError("argument couldn't be parsed into an integer")
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ConfigError("argument couldn't be parsed into an integer")
    return value


_I32: Final = 2**31 - 1
_I64: Final = 2**63 - 1
# Bounds of integer parameters (Redis's createIntConfig/createLongLongConfig limits).
_INT_RANGES: Final[dict[str, tuple[int, int]]] = {
    "acllog-max-len": (0, _I64),
    "active-defrag-cycle-max": (1, 99),
    "active-defrag-cycle-min": (1, 99),
    "active-defrag-max-scan-fields": (1, _I64),
    "active-defrag-threshold-lower": (0, 1000),
    "active-defrag-threshold-upper": (0, 1000),
    "active-expire-effort": (1, 10),
    "auto-aof-rewrite-percentage": (0, _I32),
    "busy-reply-threshold": (0, _I64),
    "cluster-announce-bus-port": (0, 65535),
    "cluster-announce-port": (0, 65535),
    "cluster-announce-tls-port": (0, 65535),
    "cluster-migration-barrier": (0, _I32),
    "cluster-node-timeout": (0, _I64),
    "cluster-replica-validity-factor": (0, _I32),
    "hash-max-listpack-entries": (0, _I64),
    "hz": (0, _I32),
    "latency-monitor-threshold": (0, _I64),
    "lfu-decay-time": (0, _I32),
    "lfu-log-factor": (0, _I32),
    "list-compress-depth": (0, _I32),
    "list-max-listpack-size": (-_I32 - 1, _I32),
    "maxclients": (1, 4294967295),
    "maxmemory-eviction-tenacity": (0, 100),
    "maxmemory-samples": (1, _I32),
    "min-replicas-max-lag": (0, _I32),
    "min-replicas-to-write": (0, _I32),
    "port": (0, 65535),
    "repl-backlog-ttl": (0, _I64),
    "repl-diskless-sync-delay": (0, _I32),
    "repl-diskless-sync-max-replicas": (0, _I32),
    "repl-ping-replica-period": (1, _I32),
    "repl-timeout": (1, _I32),
    "replica-announce-port": (0, 65535),
    "replica-priority": (0, _I32),
    "set-max-intset-entries": (0, _I64),
    "shutdown-timeout": (0, _I32),
    "slowlog-log-slower-than": (-1, _I64),
    "slowlog-max-len": (0, _I64),
    "stream-node-max-entries": (0, _I64),
    "tcp-keepalive": (0, _I32),
    "timeout": (0, _I32),
    "tls-port": (0, 65535),
    "tls-session-cache-size": (0, _I32),
    "tls-session-cache-timeout": (0, _I32),
    "tracking-table-max-keys": (0, _I64),
    "zset-max-listpack-entries": (0, _I64),
}


@dataclass
class Param:
    name: str
    kind: str
    default: str
    immutable: bool
    choices: tuple[str, ...]
    protected: bool = False

    def parse(self, text: str) -> Any:
        """Text as a user writes it -> the typed value stored in ``Config.values``."""
        kind = self.kind
        if kind == "bool":
            low = text.lower()
            if low not in ("yes", "no"):
                raise ConfigError("argument must be 'yes' or 'no'")
            return low == "yes"
        if kind == "int":
            value = _parse_int(text)
            bounds = _INT_RANGES.get(self.name)
            if bounds is not None and not bounds[0] <= value <= bounds[1]:
                raise ConfigError(f"argument must be between {bounds[0]} and {bounds[1]} inclusive")
            if self.name == "hz":  # Redis clamps hz into [CONFIG_MIN_HZ, CONFIG_MAX_HZ]
                value = min(max(value, 1), 500)
            return value
        if kind == "memory":
            if self.name == "maxmemory-clients":
                if text.endswith("%"):
                    num = text[:-1]
                    if not num.isdigit():
                        raise ConfigError("argument must be a memory or percent value")
                    if int(num) > 100:
                        raise ConfigError("percentage argument must be less or equal to 100")
                    return text
                try:
                    value = parse_memory(text)
                except ConfigError:
                    raise ConfigError("argument must be a memory or percent value") from None
                value = min(value, 2**64 - 1)  # memtoull saturates
                if value > 2**63 - 1:
                    # Redis keeps percentages as negative values: a byte count past LLONG_MAX
                    # reads back as the percentage 2^64 - value.
                    pct = 2**64 - value
                    if pct > 100:
                        raise ConfigError("percentage argument must be less or equal to 100")
                    return f"{pct}%"
            else:
                value = parse_memory(text)
            if value < 0:
                raise ConfigError("argument must be a memory value")
            return min(value, 2**64 - 1)
        if kind == "octal":
            try:
                return int(text, 8)
            except ValueError:
                raise ConfigError("argument couldn't be parsed into an integer") from None
        if kind == "enum":
            low = text.lower()
            if low not in self.choices:
                raise ConfigError("argument(s) must be one of the following: " + ", ".join(self.choices))
            return low
        if kind == "special":
            return _SPECIAL_PARSERS.get(self.name, lambda t: t)(text)
        return text

    def format(self, value: Any) -> str:
        """Typed value -> CONFIG GET text."""
        kind = self.kind
        if kind == "bool":
            return "yes" if value else "no"
        if kind == "octal":
            return f"{value:o}"
        if kind == "special":
            return _SPECIAL_FORMATTERS.get(self.name, str)(value)
        return str(value)


def _strtoll(text: str) -> int | None:
    """C's ``strtoll`` requiring the whole string to be consumed ("" is 0, as in C)."""
    t = text.lstrip(" \t\n\v\f\r")
    body = t[1:] if t[:1] in ("+", "-") else t
    if body and not all(c in "0123456789" for c in body):
        return None
    if not body:
        return 0 if not t else None
    return max(min(int(t), 2**63 - 1), -(2**63))


def _parse_save(text: str) -> list[tuple[int, int]]:
    """Redis splits on single spaces: seconds >= 1 and changes >= 0 in pairs."""
    if text == "":
        return []
    words = text.split(" ")
    if len(words) % 2:
        raise ConfigError("Invalid save parameters")
    points = []
    for i in range(0, len(words), 2):
        secs, changes = _strtoll(words[i]), _strtoll(words[i + 1])
        if secs is None or changes is None or secs < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        points.append((secs, changes))
    return points


def _format_save(points: list[tuple[int, int]]) -> str:
    return " ".join(f"{s} {c}" for s, c in points)


_COB_CLASSES: Final = {"normal": "normal", "slave": "replica", "replica": "replica", "pubsub": "pubsub"}


def _parse_cob(text: str) -> dict[str, tuple[int, int, int]]:
    words = text.split()
    if len(words) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    limits: dict[str, tuple[int, int, int]] = {}
    for i in range(0, len(words), 4):
        cls = _COB_CLASSES.get(words[i].lower())
        if cls is None:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft = parse_memory(words[i + 1]), parse_memory(words[i + 2])
            secs = int(words[i + 3])
        except (ConfigError, ValueError):
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.") from None
        limits[cls] = (hard, soft, secs)
    return limits


def _format_cob(limits: dict[str, tuple[int, int, int]]) -> str:
    names = {"normal": "normal", "replica": "slave", "pubsub": "pubsub"}
    return " ".join(f"{names[c]} {h} {s} {t}" for c, (h, s, t) in limits.items())


def _parse_percentiles(text: str) -> list[float]:
    out = []
    for w in text.split():
        try:
            v = float(w)
        except ValueError:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters") from None
        if not 0 <= v <= 100:
            raise ConfigError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
        out.append(v)
    return out


_NOTIFY_CLASSES: Final = "g$lshzxetd"


class NotifyEvents(str):
    """The canonical spelling CONFIG GET shows, plus every class that was asked for.

    Redis prints ``KEAn`` as ``AKE`` ("n" is hidden by "A") yet keeps the "new" events on;
    ``requested`` keeps them for the server.
    """

    requested: str = ""


def _parse_notify(text: str) -> str:
    """``notify-keyspace-events``: validated, stored in Redis's canonical spelling."""
    chars = set(text)
    if not chars.issubset("Ag$lshzxeKEtmdn"):
        raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    if "A" in chars:
        chars.update(_NOTIFY_CLASSES)
    # Redis's keyspaceEventsFlagsToString: "n" is listed with the classes (and hidden by "A").
    out = "A" if chars.issuperset(_NOTIFY_CLASSES) else "".join(c for c in _NOTIFY_CLASSES + "n" if c in chars)
    value = NotifyEvents(out + "".join(c for c in "KEm" if c in chars))
    value.requested = "".join(sorted(chars))
    return value


def _parse_oom_values(text: str) -> str:
    words = text.split()
    if len(words) != 3:
        raise ConfigError("wrong number of arguments")
    for w in words:
        try:
            v = int(w)
        except ValueError:
            raise ConfigError("Invalid oom-score-adj-values") from None
        if not -2000 <= v <= 2000:
            raise ConfigError("Invalid oom-score-adj-values")
    return " ".join(words)


def _format_percentiles(values: list[float]) -> str:
    return " ".join(f"{v:g}" if v != int(v) else str(int(v)) for v in values)


_SPECIAL_PARSERS: Final[dict[str, Callable[[str], Any]]] = {
    "save": _parse_save,
    "client-output-buffer-limit": _parse_cob,
    "latency-tracking-info-percentiles": _parse_percentiles,
    "notify-keyspace-events": _parse_notify,
    "oom-score-adj-values": _parse_oom_values,
}
_SPECIAL_FORMATTERS: Final[dict[str, Callable[[Any], str]]] = {
    "save": _format_save,
    "client-output-buffer-limit": _format_cob,
    "latency-tracking-info-percentiles": _format_percentiles,
}


def _load_specs() -> dict[str, Param]:
    params: dict[str, Param] = {}
    for line in _SPECS.strip().splitlines():
        name, kind, default, flags, choices = line.split("|")
        params[name] = Param(name, kind, default, flags == "immutable", tuple(choices.split()), flags == "protected")
    return params


PARAMS: Final = _load_specs()


class Config:
    """The live settings of one server."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._watchers: dict[str, list[Callable[[Any], None]]] = {}
        self.config_file: str | None = None
        for p in PARAMS.values():
            self.values[p.name] = p.parse(p.default)
        # client-output-buffer-limit: SET merges classes into the current limits.
        self.values["client-output-buffer-limit"] = _parse_cob(PARAMS["client-output-buffer-limit"].default)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @staticmethod
    def canonical(name: str) -> str:
        low = name.lower()
        return ALIASES.get(low, low)

    def watch(self, name: str, callback: Callable[[Any], None]) -> None:
        self._watchers.setdefault(name, []).append(callback)

    def parse_value(self, name: str, text: str) -> tuple[Param, Any]:
        param = PARAMS.get(self.canonical(name))
        if param is None:
            raise KeyError(name)
        value = param.parse(text)
        if param.name == "client-output-buffer-limit":
            merged = dict(self.values[param.name])
            merged.update(value)
            value = merged
        return param, value

    def set_value(self, param: Param, value: Any) -> None:
        old = self.values[param.name]
        self.values[param.name] = value
        if old != value or getattr(old, "requested", None) != getattr(value, "requested", None):
            for cb in self._watchers.get(param.name, ()):
                cb(value)

    def get_matching(self, patterns: list[str]) -> dict[str, str]:
        """CONFIG GET: names (and aliases) matching any glob, in first-seen order."""
        out: dict[str, str] = {}
        seen: set[str] = set()
        names = list(PARAMS) + list(ALIASES)
        for pat in patterns:
            low = pat.lower()
            if not any(c in low for c in "*?["):
                canon = self.canonical(low)
                if canon in PARAMS and low not in seen:
                    seen.add(low)
                    out[pat] = self.format(canon)  # Redis echoes the name as typed
                continue
            for name in names:
                if name not in seen and fnmatch.fnmatchcase(name, low):
                    seen.add(name)
                    out[name] = self.format(self.canonical(name))
        return out

    def format(self, name: str) -> str:
        return PARAMS[name].format(self.values[name])

    # ------------------------------------------------------------------ config file

    def rewrite_option(self, name: str) -> list[str]:
        """The config-file lines that set ``name`` to its current value."""
        param = PARAMS[name]
        value = self.values[name]
        kind = param.kind
        if name == "save":
            return [f"save {s} {c}" for s, c in value] or ['save ""']
        if name == "client-output-buffer-limit":
            names = {"normal": "normal", "replica": "slave", "pubsub": "pubsub"}
            return [f"{name} {names[c]} {_format_bytes(h)} {_format_bytes(sl)} {t}" for c, (h, sl, t) in value.items()]
        if kind == "string" or name == "notify-keyspace-events":
            return [f"{name} {_repr(self.format(name))}"]
        if kind == "memory" and isinstance(value, int):
            return [f"{name} {_format_bytes(value)}"]
        return [f"{name} {self.format(name)}"]

    def rewrite(self, force_all: bool = False) -> None:
        """CONFIG REWRITE: update the file in place, keeping comments and unknown lines."""
        path = self.config_file
        if not path:
            raise OSError(2, "No config file")
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                old = f.read().splitlines()
        except FileNotFoundError:
            old = []
        lines: list[str | None] = []
        where: dict[str, list[int]] = {}
        from snakedis.protocol.resp import split_args

        signed = False
        for raw in old:
            if raw.strip() == _REWRITE_SIGNATURE:
                signed = True
            stripped = raw.strip()
            if stripped and not stripped.startswith("#"):
                args = split_args(stripped.encode("utf-8", "surrogateescape"))
                if args:
                    canon = self.canonical(args[0].decode("utf-8", "surrogateescape"))
                    if canon in PARAMS:
                        where.setdefault(canon, []).append(len(lines))
            lines.append(raw)
        tail: list[str] = []
        for name, param in PARAMS.items():
            new = self.rewrite_option(name)
            spots = where.get(name)
            if spots:
                lines[spots[0]] = "\n".join(new)
                for i in spots[1:]:
                    lines[i] = None
            elif force_all or self.format(name) != self.format_default(param):
                tail.extend(new)
        out = [line for line in lines if line is not None]
        if tail:
            if not signed:
                out.append(_REWRITE_SIGNATURE)
            out.extend(tail)
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write("\n".join(out) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def format_default(self, param: Param) -> str:
        default = param.parse(param.default)
        if param.name == "client-output-buffer-limit":
            default = _parse_cob(param.default)
        return param.format(default)

    def load_file(self, path: str) -> list[tuple[str, list[str]]]:
        """Parse a redis.conf; returns directives in order (applied by ``apply_directives``)."""
        self.config_file = os.path.abspath(path)
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        return parse_config_text(text)


_REWRITE_SIGNATURE: Final = "# Generated by CONFIG REWRITE"


def _format_bytes(value: int) -> str:
    """Redis's ``rewriteConfigFormatMemory``: the largest exact unit."""
    for unit, size in (("gb", 1024**3), ("mb", 1024**2), ("kb", 1024)):
        if value and value % size == 0:
            return f"{value // size}{unit}"
    return str(value)


def _repr(text: str) -> str:
    """Redis's ``sdscatrepr``: a double-quoted string with escapes."""
    out = ['"']
    for ch in text.encode("utf-8", "surrogateescape"):
        if ch in (34, 92):
            out.append("\\" + chr(ch))
        elif ch == 10:
            out.append("\\n")
        elif ch == 13:
            out.append("\\r")
        elif ch == 9:
            out.append("\\t")
        elif 32 <= ch < 127:
            out.append(chr(ch))
        else:
            out.append(f"\\x{ch:02x}")
    out.append('"')
    return "".join(out)


def parse_config_text(text: str) -> list[tuple[str, list[str]]]:
    """redis.conf lines -> ``(name, args)``; quoting as Redis's ``sdssplitargs``."""
    from snakedis.protocol.resp import split_args

    out = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        args = split_args(line.encode("utf-8", "surrogateescape"))
        if args is None:
            raise ConfigError(f"line {lineno}: Unbalanced quotes in configuration line")
        if args:
            out.append((args[0].decode().lower(), [a.decode("utf-8", "surrogateescape") for a in args[1:]]))
    return out
