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
from dataclasses import dataclass
from typing import Any, Callable, Final

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
appendfsync|enum|everysec||always everysec no
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
cluster-link-sendbuf-limit|int|0||
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
dbfilename|string|dump.rdb||
dir|string|.||
disable-thp|bool|yes|immutable|
dynamic-hz|bool|yes||
enable-debug-command|enum|no|immutable|no yes local
enable-module-command|enum|no|immutable|no yes local
enable-protected-configs|enum|no|immutable|no yes local
hash-max-listpack-entries|int|512||
hash-max-listpack-value|int|64||
hll-sparse-max-bytes|memory|3000||
hz|int|10||
ignore-warnings|string||immutable|
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
rdbchecksum|bool|yes||
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
replicaof|special|||
requirepass|string|||
sanitize-dump-payload|enum|no||no yes clients
save|special|3600 1 300 100 60 10000||
server_cpulist|string||immutable|
set-max-intset-entries|int|512||
set-max-listpack-entries|int|128||
set-max-listpack-value|int|64||
set-proc-title|bool|yes|immutable|
shutdown-on-sigint|enum|default||default save nosave now force
shutdown-on-sigterm|enum|default||default save nosave now force
shutdown-timeout|int|10||
slowlog-log-slower-than|int|10000||
slowlog-max-len|int|128||
socket-mark-id|int|0||
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
tls-auth-clients|bool|yes||
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
zset-max-listpack-value|int|64||
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
    """``1gb`` -> 1073741824, as Redis's ``memtoull``."""
    t = text.strip().lower()
    i = len(t)
    while i > 0 and t[i - 1].isalpha():
        i -= 1
    num, unit = t[:i], t[i:]
    if unit not in _MEMORY_UNITS or not num or not (num.isdigit() or (num[0] == "-" and num[1:].isdigit())):
        raise ConfigError("argument must be a memory value")
    return int(num) * _MEMORY_UNITS[unit]


def _parse_int(text: str) -> int:
    try:
        if text.strip() != text or not text:
            raise ValueError
        return int(text)
    except ValueError:
        raise ConfigError("argument couldn't be parsed into an integer") from None


@dataclass
class Param:
    name: str
    kind: str
    default: str
    immutable: bool
    choices: tuple[str, ...]

    def parse(self, text: str) -> Any:
        """Text as a user writes it -> the typed value stored in ``Config.values``."""
        kind = self.kind
        if kind == "bool":
            low = text.lower()
            if low not in ("yes", "no"):
                raise ConfigError("argument must be 'yes' or 'no'")
            return low == "yes"
        if kind == "int":
            return _parse_int(text)
        if kind == "memory":
            if self.name == "maxmemory-clients" and text.endswith("%"):
                return text
            return parse_memory(text)
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
            return "%o" % value
        if kind == "special":
            return _SPECIAL_FORMATTERS.get(self.name, str)(value)
        return str(value)


def _parse_save(text: str) -> list[tuple[int, int]]:
    words = text.split()
    if len(words) % 2:
        raise ConfigError("Invalid save parameters")
    points = []
    for i in range(0, len(words), 2):
        try:
            points.append((int(words[i]), int(words[i + 1])))
        except ValueError:
            raise ConfigError("Invalid save parameters") from None
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
            raise ConfigError("latency-tracking-info-percentiles: invalid percentile") from None
        if not 0 <= v <= 100:
            raise ConfigError("latency-tracking-info-percentiles: invalid percentile")
        out.append(v)
    return out


def _format_percentiles(values: list[float]) -> str:
    return " ".join(("%g" % v) if v != int(v) else str(int(v)) for v in values)


_SPECIAL_PARSERS: Final[dict[str, Callable[[str], Any]]] = {
    "save": _parse_save,
    "client-output-buffer-limit": _parse_cob,
    "latency-tracking-info-percentiles": _parse_percentiles,
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
        params[name] = Param(name, kind, default, flags == "immutable", tuple(choices.split()))
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
        if old != value:
            for cb in self._watchers.get(param.name, ()):
                cb(value)

    def get_matching(self, patterns: list[str]) -> dict[str, str]:
        """CONFIG GET: names (and aliases) matching any glob, in first-seen order."""
        out: dict[str, str] = {}
        names = list(PARAMS) + list(ALIASES)
        for pat in patterns:
            low = pat.lower()
            if not any(c in low for c in "*?["):
                canon = self.canonical(low)
                if canon in PARAMS and low not in out:
                    out[low] = self.format(canon)
                continue
            for name in names:
                if name not in out and fnmatch.fnmatchcase(name, low):
                    out[name] = self.format(self.canonical(name))
        return out

    def format(self, name: str) -> str:
        return PARAMS[name].format(self.values[name])

    # ------------------------------------------------------------------ config file

    def load_file(self, path: str) -> list[tuple[str, list[str]]]:
        """Parse a redis.conf; returns directives in order (applied by ``apply_directives``)."""
        self.config_file = os.path.abspath(path)
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        return parse_config_text(text)


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
