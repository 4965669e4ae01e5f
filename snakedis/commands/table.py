"""The command table: every command is one declaration of data next to its handler.

A family module (``strings.py``, ``keys.py`` ...) builds a ``CommandGroup`` and declares each
command with ``group.command(name, arity, flags, first_key, last_key, step, categories)`` as a
decorator on its handler.  ``build_table()`` collects the families listed in ``FAMILIES`` —
explicitly, no import side effects — into a ``CommandTable`` that dispatch, COMMAND, ACL and
MULTI all read.

The declared facts are Redis's (``src/commands/*.json``): arity with Redis's sign rule
(positive = exact, negative = at least, counting the command name), flags, the legacy
first/last/step key positions, and the explicit ACL categories.  The implicit categories Redis
derives from flags (``@write``, ``@read``, ``@fast``/``@slow``, ``@admin``/``@dangerous``,
``@pubsub``, ``@blocking``) are derived here the same way, so ``COMMAND INFO`` can be checked
field by field against a real server.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from snakedis.server.stats import Histogram

if TYPE_CHECKING:
    from snakedis.server.connection import Client

Handler = Callable[["Client", list[bytes]], Any]


class Flag(enum.Flag):
    """Command flags, in the order ``COMMAND INFO`` lists them."""

    WRITE = enum.auto()
    READONLY = enum.auto()
    DENYOOM = enum.auto()
    MODULE = enum.auto()
    ADMIN = enum.auto()
    PUBSUB = enum.auto()
    NOSCRIPT = enum.auto()
    BLOCKING = enum.auto()
    LOADING = enum.auto()
    STALE = enum.auto()
    SKIP_MONITOR = enum.auto()
    SKIP_SLOWLOG = enum.auto()
    ASKING = enum.auto()
    FAST = enum.auto()
    NO_AUTH = enum.auto()
    MAY_REPLICATE = enum.auto()
    SENTINEL = enum.auto()
    ONLY_SENTINEL = enum.auto()
    NO_MANDATORY_KEYS = enum.auto()
    PROTECTED = enum.auto()
    NO_ASYNC_LOADING = enum.auto()
    NO_MULTI = enum.auto()
    MOVABLE_KEYS = enum.auto()
    ALLOW_BUSY = enum.auto()


FLAG_NAMES: Final = {
    "write": Flag.WRITE,
    "readonly": Flag.READONLY,
    "denyoom": Flag.DENYOOM,
    "module": Flag.MODULE,
    "admin": Flag.ADMIN,
    "pubsub": Flag.PUBSUB,
    "noscript": Flag.NOSCRIPT,
    "blocking": Flag.BLOCKING,
    "loading": Flag.LOADING,
    "stale": Flag.STALE,
    "skip_monitor": Flag.SKIP_MONITOR,
    "skip_slowlog": Flag.SKIP_SLOWLOG,
    "asking": Flag.ASKING,
    "fast": Flag.FAST,
    "no_auth": Flag.NO_AUTH,
    "may_replicate": Flag.MAY_REPLICATE,
    "sentinel": Flag.SENTINEL,
    "only_sentinel": Flag.ONLY_SENTINEL,
    "protected": Flag.PROTECTED,
    "no_mandatory_keys": Flag.NO_MANDATORY_KEYS,
    "no_async_loading": Flag.NO_ASYNC_LOADING,
    "no_multi": Flag.NO_MULTI,
    "movablekeys": Flag.MOVABLE_KEYS,
    "allow_busy": Flag.ALLOW_BUSY,
}

# ACL categories in Redis's order (ACLCommandCategories in acl.c).
ACL_CATEGORIES: Final = (
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
)


def _parse_flags(text: str) -> Flag:
    flags = Flag(0)
    for word in text.split():
        flags |= FLAG_NAMES[word]
    return flags


def _derive_categories(flags: Flag, explicit: str) -> tuple[str, ...]:
    """Redis's ``setImplicitACLCategories`` plus the declared ones, in Redis's order."""
    cats = {c.lstrip("@") for c in explicit.split()}
    if flags & Flag.WRITE:
        cats.add("write")
    if flags & Flag.READONLY and "scripting" not in cats:
        cats.add("read")
    if flags & Flag.ADMIN:
        cats.update(("admin", "dangerous"))
    if flags & Flag.PUBSUB:
        cats.add("pubsub")
    if flags & Flag.FAST:
        cats.add("fast")
    if flags & Flag.BLOCKING:
        cats.add("blocking")
    if "fast" not in cats:
        cats.add("slow")
    unknown = cats.difference(ACL_CATEGORIES)
    if unknown:
        raise ValueError(f"unknown ACL categories {unknown}")
    return tuple(c for c in ACL_CATEGORIES if c in cats)


@dataclass(eq=False)
class CommandStats:
    """Per-command counters for INFO commandstats and latencystats."""

    calls: int = 0
    duration_ns: int = 0
    rejected_calls: int = 0
    failed_calls: int = 0
    histogram: Histogram = field(default_factory=Histogram)
    buckets: list[int] = field(default_factory=list)  # histogram.buckets, one load fewer in call()

    def __post_init__(self) -> None:
        self.buckets = self.histogram.buckets

    @property
    def usec(self) -> int:
        return self.duration_ns // 1000

    def reset(self) -> None:
        self.calls = self.duration_ns = self.rejected_calls = self.failed_calls = 0
        self.histogram.reset()


# Keyless commands that touch no gate state, so they may take the direct path too.  Commands
# with keys never change authentication, MULTI, subscriptions, tracking, reply mode,
# replication role, pauses or the server's gates (those are all keyless commands).
_DIRECT_KEYLESS: Final = frozenset(("ping", "echo"))
# Commands a client inside MULTI runs at once instead of queueing (Redis's processCommand).
_MULTI_IMMEDIATE: Final = frozenset(("exec", "discard", "multi", "watch", "quit", "reset"))
# Transaction boundaries, which the direct path runs and then re-reads its state: MULTI and
# DISCARD change only the client's MULTI state (1); EXEC runs the queue, so anything (2).
_TRANSACTION_SWITCH: Final = {"multi": 1, "discard": 1, "exec": 2}


@dataclass(eq=False)
class Command:
    """One command or subcommand as Redis describes it, plus our handler."""

    name: str  # lower case; "config|get" for a subcommand
    arity: int
    flags: Flag
    first_key: int
    last_key: int
    step: int
    categories: tuple[str, ...]
    handler: Handler | None
    group: str = ""
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    parent: Command | None = None
    getkeys: Callable[[list[bytes]], list[int]] | None = None
    stats: CommandStats = field(default_factory=CommandStats)
    # Precomputed at build time so the hot path reads plain attributes.
    is_write: bool = False
    is_fast: bool = False
    propagates: bool = False  # write or may_replicate: call() propagates it when dirty
    no_auth: bool = False
    no_multi: bool = False
    error_name: bytes = b""
    # May run on the dispatcher's direct path (``dispatch.run_frames``): a plain command that
    # cannot change the client or server state the gates look at (see ``_DIRECT_KEYLESS``).
    direct: bool = False
    multi_immediate: bool = False  # runs at once inside MULTI (see ``_MULTI_IMMEDIATE``)
    switches_state: int = 0  # direct, but the direct path re-reads its state after it (see above)
    # The argument counts the arity allows, as a range for one chained comparison.
    min_argc: int = 0
    max_argc: int = 0

    def __post_init__(self) -> None:
        self.is_write = bool(self.flags & Flag.WRITE)
        self.is_fast = bool(self.flags & Flag.FAST)
        self.propagates = bool(self.flags & (Flag.WRITE | Flag.MAY_REPLICATE))
        self.no_auth = bool(self.flags & Flag.NO_AUTH)
        self.no_multi = bool(self.flags & Flag.NO_MULTI)
        self.error_name = self.name.encode()
        self.min_argc = abs(self.arity)
        self.max_argc = self.arity if self.arity > 0 else 1 << 62
        self.multi_immediate = self.name in _MULTI_IMMEDIATE
        self.switches_state = _TRANSACTION_SWITCH.get(self.name, 0)
        self.direct = (
            "|" not in self.name
            and not self.flags & Flag.PUBSUB
            and (self.first_key > 0 or self.getkeys is not None or self.name in _DIRECT_KEYLESS)
        ) or bool(self.switches_state)

    @property
    def fullname(self) -> str:
        return self.name

    def key_positions(self, args: list[bytes]) -> list[int]:
        """Indices into ``args`` (0 = the command name) of the key arguments."""
        if self.getkeys is not None:
            return self.getkeys(args)
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(args) + self.last_key
        return list(range(self.first_key, min(last, len(args) - 1) + 1, self.step))

    def arity_ok(self, argc: int) -> bool:
        return self.min_argc <= argc <= self.max_argc


class CommandGroup:
    """The commands of one family, declared next to their handlers."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.commands: list[Command] = []
        self._containers: dict[str, Command] = {}
        # Subcommands of a container declared by another family (CLIENT TRACKING lives with
        # pub/sub); build_table() attaches them.
        self.foreign_subcommands: list[Command] = []

    def command(
        self,
        name: str,
        arity: int,
        flags: str = "",
        first_key: int = 0,
        last_key: int = 0,
        step: int = 0,
        categories: str = "",
        getkeys: Callable[[list[bytes]], list[int]] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare ``name`` (``"config|get"`` for a subcommand) with Redis's facts."""

        def register(handler: Handler) -> Handler:
            self.add(name, arity, flags, first_key, last_key, step, categories, handler, getkeys)
            return handler

        return register

    def add(
        self,
        name: str,
        arity: int,
        flags: str,
        first_key: int,
        last_key: int,
        step: int,
        categories: str,
        handler: Handler | None,
        getkeys: Callable[[list[bytes]], list[int]] | None = None,
    ) -> Command:
        parsed = _parse_flags(flags)
        cmd = Command(
            name=name,
            arity=arity,
            flags=parsed,
            first_key=first_key,
            last_key=last_key,
            step=step,
            categories=_derive_categories(parsed, categories),
            handler=handler,
            group=self.group,
            getkeys=getkeys,
        )
        if "|" in name:
            parent_name, sub = name.split("|", 1)
            parent = self._containers.get(parent_name)
            if parent is None:
                self.foreign_subcommands.append(cmd)
            else:
                cmd.parent = parent
                parent.subcommands[sub.encode()] = cmd
        else:
            self.commands.append(cmd)
            if handler is None:
                self._containers[name] = cmd
        return cmd

    def container(self, name: str, arity: int, categories: str = "") -> None:
        """A command that only dispatches to subcommands (CONFIG, CLIENT, OBJECT ...)."""
        self.add(name, arity, "", 0, 0, 0, categories, None)


# The families, in the order COMMAND lists nothing in particular; explicit, no discovery.
FAMILIES: Final = (
    "connection",
    "client",
    "strings",
    "bitmaps",
    "keys",
    "server",
    "lists",
    "hashes",
    "sets",
    "zsets",
    "sort",
    "transactions",
    "scripting",
    "functions",
    "pubsub",
    "tracking",
    "hyperloglog",
    "geo",
    "streams",
    "persistence",
    "replication",
    "acl",
)


class CommandTable:
    """Lookup by name in any letter case, with a cache of the exact bytes clients send."""

    def __init__(self, commands: list[Command]) -> None:
        self.by_name: dict[bytes, Command] = {}
        for cmd in commands:
            if cmd.name.encode() in self.by_name:
                raise ValueError(f"command {cmd.name} declared twice")
            self.by_name[cmd.name.encode()] = cmd
            if cmd.subcommands or cmd.handler is None:
                cmd.direct = False  # containers dispatch on their subcommand
        self._cache: dict[bytes, Command] = dict(self.by_name)
        for name, cmd in self.by_name.items():
            self._cache[name.upper()] = cmd

    def lookup(self, name: bytes) -> Command | None:
        cmd = self._cache.get(name)
        if cmd is None:
            cmd = self.by_name.get(name.lower())
            if cmd is not None and len(self._cache) < 4096:
                self._cache[name] = cmd
        return cmd

    def all_commands(self) -> list[Command]:
        """Every command and subcommand."""
        out: list[Command] = []
        for cmd in self.by_name.values():
            out.append(cmd)
            out.extend(cmd.subcommands.values())
        return out

    def find(self, fullname: str) -> Command | None:
        """``get`` or ``config|get``."""
        name, _, sub = fullname.lower().partition("|")
        cmd = self.by_name.get(name.encode())
        if cmd is None or not sub:
            return cmd
        return cmd.subcommands.get(sub.encode())


def build_table() -> CommandTable:
    commands: list[Command] = []
    foreign: list[Command] = []
    for family in FAMILIES:
        try:
            module = importlib.import_module(f"snakedis.commands.{family}")
        except ModuleNotFoundError as err:
            if err.name == f"snakedis.commands.{family}":
                continue  # a family not written yet
            raise
        commands.extend(module.GROUP.commands)
        foreign.extend(module.GROUP.foreign_subcommands)
    by_name = {c.name: c for c in commands}
    for sub in foreign:
        parent_name, sub_name = sub.name.split("|", 1)
        parent = by_name.get(parent_name)
        if parent is None:
            raise ValueError(f"subcommand {sub.name} has no container")
        sub.parent = parent
        parent.subcommands[sub_name.encode()] = sub
    return CommandTable(commands)
