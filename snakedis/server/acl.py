"""ACL users, rule parsing, permission checks and the ACL LOG (Redis 7.0's ``acl.c`` semantics).

Installed once per server as ``server.extensions["acl"]`` by ``install(server)`` (the CLI does
it at start-up; the ACL commands call it lazily for in-process servers).

Invariants:

* ``Acl.users`` maps a user name (bytes) to its ``User``; ``b"default"`` always exists and is
  never replaced, only rewritten in place.
* A user's permissions are a list of ``Selector``: the first is the root selector (rules outside
  parentheses), the rest come from ``(...)`` selectors.  A command runs when any selector allows
  the command *and* all its keys *and* all its channels.
* A selector's allowed commands are a set of command full names (``"get"``, ``"config|get"``);
  ``future`` is Redis's reserved bit: set only by ``+@all``/``allcommands`` and cleared by
  ``-@all``/``nocommands``, so descriptions start with ``+@all`` or ``-@all`` as Redis's do.
* Passwords are kept as SHA-256 hex strings, as Redis shows them.
* The permission gate is registered (``extensions["acl_gate"]`` plus a no-op entry in
  ``server.command_gates`` that keeps the dispatcher off its fast path) only while some user
  other than an unrestricted default exists; the default configuration pays nothing.
* ``client.user`` holds the user name; deleting a user disconnects its clients.
* While the gate is up, ``extensions["acl_exec_check"]`` (EXEC's re-check of queued commands)
  and ``extensions["acl_script_check"]`` (``redis.call`` from scripts) are there for those
  families; ``Acl.check_command`` backs ``redis.acl_check_cmd``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.table import ACL_CATEGORIES, Command, Flag
from snakedis.protocol.errors import CommandError
from snakedis.util.glob import match as glob_match

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

PERM_READ: Final = 1
PERM_WRITE: Final = 2
PERM_ALL: Final = 3

DENIED_CMD: Final = 1
DENIED_KEY: Final = 2
DENIED_AUTH: Final = 3
DENIED_CHANNEL: Final = 4

REASON_NAMES: Final = {DENIED_CMD: b"command", DENIED_KEY: b"key", DENIED_CHANNEL: b"channel", DENIED_AUTH: b"auth"}

LOG_GROUPING_MAX_MS: Final = 60000

# Commands whose arguments are channels (ACLDoesCommandHaveChannels).
_CHANNEL_COMMANDS: Final = {"publish": 1, "spublish": 1, "subscribe": 2, "ssubscribe": 2, "psubscribe": 3}

_ERR_MESSAGES: Final = {
    "ENOENT": "Unknown command or category name in ACL",
    "EINVAL": "Syntax error",
    "EEXIST": "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
    "effect. Try 'resetkeys' to start with an empty list of patterns",
    "EISDIR": "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have "
    "any effect. Try 'resetchannels' to start with an empty list of channels",
    "ENODEV": "The password you are trying to remove from the user does not exist",
    "EBADMSG": "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
    "EALREADY": "Duplicate user found. A user can only be defined once in config files",
    "ECHILD": "Allowing first-arg of a subcommand is not supported",
}

_EXEC_REASONS: Final = {
    DENIED_CMD: "no permission to execute the command or subcommand",
    DENIED_KEY: "no permission to touch the specified keys",
    DENIED_CHANNEL: "no permission to access one of the channels used as arguments",
}

NOPERM_KEY: Final = b"NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL: Final = b"NOPERM this user has no permissions to access one of the channels used as arguments"


class RuleError(Exception):
    """A rule ACL SETUSER cannot apply; ``code`` names Redis's errno."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return _ERR_MESSAGES.get(self.code, "Wrong format")


def hash_password(password: bytes) -> bytes:
    return hashlib.sha256(password).hexdigest().encode()


def _valid_hash(h: bytes) -> bool:
    return len(h) == 64 and all(48 <= c <= 57 or 97 <= c <= 102 for c in h)


def has_spaces(s: bytes) -> bool:
    """Redis's ACLStringHasSpaces: isspace() or NUL anywhere."""
    return any(c in b" \t\n\v\f\r\x00" for c in s)


class CommandIndex:
    """The command table seen by ACL: every command and subcommand, and category members."""

    def __init__(self, server: Server) -> None:
        self.table = server.table
        self.commands: list[Command] = []
        for cmd in self.table.by_name.values():
            self.commands.append(cmd)
        self.all_names: frozenset[str] = frozenset(c.name for c in self.table.all_commands())
        self.by_category: dict[str, frozenset[str]] = {
            cat: frozenset(c.name for c in self.table.all_commands() if cat in c.categories) for cat in ACL_CATEGORIES
        }
        self._key_flags: dict[str, Any] = {}

    def lookup(self, name: bytes) -> Command | None:
        """ACLLookupCommand: ``get`` or ``config|get`` in any case."""
        try:
            text = name.decode()
        except UnicodeDecodeError:
            return None
        parts = text.lower().split("|")
        if len(parts) > 2:
            return None
        cmd = self.table.by_name.get(parts[0].encode())
        if cmd is None or len(parts) == 1:
            return cmd
        if not cmd.subcommands:
            return None
        return cmd.subcommands.get(parts[1].encode())

    def key_flags(self, cmd: Command, argv: list[bytes]) -> list[tuple[int, int]]:
        """(position, needed permission) for every key of the command."""
        positions = cmd.key_positions(argv)
        if not positions:
            return []
        spec = self._key_flags.get(cmd.name)
        if spec is None:
            spec = self._key_flags[cmd.name] = _load_specs(cmd.name)
        specs, fallback = spec
        out: list[tuple[int, int]] = []
        if cmd.name == "set" or cmd.name == "bitfield":
            from snakedis.commands.server import _variable_flags

            var = _variable_flags(cmd.name, argv)
            need = _perm_of([bytes(f) for f in var]) if var is not None else PERM_ALL
            return [(p, need) for p in positions if p < len(argv)]
        if specs:
            from snakedis.commands.server import _spec_keys

            by_pos = _spec_keys(specs, argv)
        else:
            by_pos = {}
        for p in positions:
            if p >= len(argv):
                continue
            flags = by_pos.get(p)
            out.append((p, _perm_of([bytes(f) for f in flags]) if flags is not None else fallback))
        return out


def _perm_of(flags: list[bytes]) -> int:
    need = 0
    for f in flags:
        f = f.lower()
        if f == b"access":
            need |= PERM_READ
        elif f in (b"insert", b"delete", b"update"):
            need |= PERM_WRITE
    return need


def _load_specs(name: str) -> tuple[list[Any], int]:
    try:
        from snakedis.commands.server import _decoded
    except ImportError:  # pragma: no cover - the server family is always there
        return [], PERM_ALL
    decoded = _decoded(name)
    if decoded is None:
        return [], PERM_ALL
    specs = list(decoded[1])
    fallback = PERM_ALL
    for s in specs:
        if s.get(b"begin_search", {}).get(b"type") == b"unknown":
            fallback = _perm_of([bytes(f) for f in s.get(b"flags", [])])
    return specs, fallback


@dataclass(eq=False)
class Selector:
    """A set of command, key and channel permissions (Redis's ``aclSelector``)."""

    root: bool = False
    allkeys: bool = False
    allchannels: bool = False
    allcommands: bool = False
    future: bool = False
    allowed: set[str] = field(default_factory=set)
    firstargs: dict[str, list[bytes]] = field(default_factory=dict)
    patterns: list[list[Any]] = field(default_factory=list)  # [pattern, perm flags]
    channels: list[bytes] = field(default_factory=list)

    def copy(self) -> Selector:
        return Selector(
            self.root,
            self.allkeys,
            self.allchannels,
            self.allcommands,
            self.future,
            set(self.allowed),
            {k: list(v) for k, v in self.firstargs.items()},
            [list(p) for p in self.patterns],
            list(self.channels),
        )

    # ------------------------------------------------------------------ rule application

    def change_perm(self, index: CommandIndex, cmd: Command, allow: bool) -> None:
        """ACLChangeSelectorPerm: a container's rule applies to its subcommands too."""
        self._set_bit(cmd.name, allow)
        self.firstargs.pop(cmd.name, None)
        for sub in cmd.subcommands.values():
            self._set_bit(sub.name, allow)

    def _set_bit(self, name: str, allow: bool) -> None:
        if allow:
            self.allowed.add(name)
        else:
            self.allowed.discard(name)
            self.allcommands = False

    def set_category(self, index: CommandIndex, cat: str, allow: bool) -> None:
        members = index.by_category[cat]
        for cmd in index.commands:
            if cmd.name in members:
                self.change_perm(index, cmd, allow)
            for sub in cmd.subcommands.values():
                if sub.name in members:
                    self.change_perm(index, sub, allow)

    def apply(self, index: CommandIndex, op: bytes) -> None:
        """ACLSetSelector: one rule about commands, keys or channels."""
        low = op.lower()
        if low == b"allkeys" or op == b"~*":
            self.allkeys = True
            self.patterns = []
        elif low == b"resetkeys":
            self.allkeys = False
            self.patterns = []
        elif low == b"allchannels" or op == b"&*":
            self.allchannels = True
            self.channels = []
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif low == b"allcommands" or low == b"+@all":
            self.allowed = set(index.all_names)
            self.allcommands = True
            self.future = True
            self.firstargs = {}
        elif low == b"nocommands" or low == b"-@all":
            self.allowed = set()
            self.allcommands = False
            self.future = False
            self.firstargs = {}
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(op)
        elif op[:1] == b"&":
            if self.allchannels:
                raise RuleError("EISDIR")
            pat = op[1:]
            if has_spaces(pat):
                raise RuleError("EINVAL")
            if pat not in self.channels:
                self.channels.append(pat)
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow_command(index, op[1:])
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = index.lookup(op[1:])
            if cmd is None:
                raise RuleError("ENOENT")
            self.change_perm(index, cmd, False)
        elif op[:2] in (b"+@", b"-@"):
            try:
                cat = op[2:].decode().lower()
            except UnicodeDecodeError:
                raise RuleError("ENOENT") from None
            if cat not in index.by_category:
                raise RuleError("ENOENT")
            self.set_category(index, cat, op[:1] == b"+")
        else:
            raise RuleError("EINVAL")

    def _add_key_pattern(self, op: bytes) -> None:
        if self.allkeys:
            raise RuleError("EEXIST")
        flags = 0
        offset = 1
        if op[:1] == b"%":
            n = len(op)
            while offset < n:
                c = op[offset : offset + 1].upper()
                if c == b"R" and not flags & PERM_READ:
                    flags |= PERM_READ
                elif c == b"W" and not flags & PERM_WRITE:
                    flags |= PERM_WRITE
                elif c == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError("EINVAL")
                offset += 1
        else:
            flags = PERM_ALL
        pat = op[offset:]
        if has_spaces(pat):
            raise RuleError("EINVAL")
        for existing in self.patterns:
            if existing[0] == pat:
                existing[1] |= flags
                break
        else:
            self.patterns.append([pat, flags])
        self.allkeys = False

    def _allow_command(self, index: CommandIndex, name: bytes) -> None:
        if b"|" not in name:
            cmd = index.lookup(name)
            if cmd is None:
                raise RuleError("ENOENT")
            self.change_perm(index, cmd, True)
            return
        head, _, sub = name.rpartition(b"|")
        cmd = index.lookup(head)
        if cmd is None:
            raise RuleError("ENOENT")
        if cmd.parent is not None:
            raise RuleError("ECHILD")
        if not sub:
            raise RuleError("EINVAL")
        if cmd.subcommands:
            subcmd = index.lookup(name)
            if subcmd is None:
                raise RuleError("ENOENT")
            self.change_perm(index, subcmd, True)
        else:
            args = self.firstargs.setdefault(cmd.name, [])
            if not any(a.lower() == sub.lower() for a in args):
                args.append(sub)

    # ------------------------------------------------------------------ checks

    def check_key(self, key: bytes, need: int) -> bool:
        if self.allkeys:
            return True
        for pat, flags in self.patterns:
            if flags & need == need and glob_match(pat, key):
                return True
        return False

    def check_channel(self, channel: bytes, literal: bool) -> bool:
        if self.allchannels:
            return True
        for pat in self.channels:
            if (literal and pat == channel) or (not literal and glob_match(pat, channel)):
                return True
        return False

    def check_command(self, index: CommandIndex, cmd: Command, argv: list[bytes]) -> tuple[int, int]:
        """ACLSelectorCheckCmd: (0, 0) when allowed, else (reason, argument index)."""
        if not self.allcommands and not cmd.flags & Flag.NO_AUTH and cmd.name not in self.allowed:
            args = self.firstargs.get(cmd.name)
            if len(argv) < 2 or not args:
                return DENIED_CMD, 0
            idx = 2 if cmd.parent is not None else 1
            if idx >= len(argv):
                return DENIED_CMD, 0
            wanted = argv[idx].lower()
            if not any(a.lower() == wanted for a in args):
                return DENIED_CMD, 0
        if not self.allkeys and (cmd.first_key > 0 or cmd.getkeys is not None):
            for pos, need in index.key_flags(cmd, argv):
                if not self.check_key(argv[pos], need):
                    return DENIED_KEY, pos
        if not self.allchannels:
            kind = _CHANNEL_COMMANDS.get(cmd.name)
            if kind is not None:
                last = 2 if kind == 1 else len(argv)
                for j in range(1, min(last, len(argv))):
                    # Redis passes literal != ACL_OK: PSUBSCRIBE compares literally.
                    if not self.check_channel(argv[j], kind == 3):
                        return DENIED_CHANNEL, j
        return 0, 0

    # ------------------------------------------------------------------ description

    def describe_commands(self, index: CommandIndex) -> bytes:
        """ACLDescribeSelectorCommandRules: +@all/-@all, best-fit categories, then single commands."""
        additive = not self.future
        rules: list[bytes] = [b"-@all" if additive else b"+@all"]
        fake: set[str] = set() if additive else set(index.all_names)
        temp = set(self.allowed)
        applied: set[str] = set()
        while True:
            best = None
            mindiff = 1 << 62
            maxsame = 0
            for cat in ACL_CATEGORIES:
                if cat in applied:
                    continue
                members = index.by_category[cat]
                on = len(members & temp)
                off = len(members) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = cat, diff, same
            if best is None:
                break
            members = index.by_category[best]
            fake_sel = Selector(allowed=fake)
            fake_sel.set_category(index, best, additive)
            fake = fake_sel.allowed
            temp_sel = Selector(allowed=temp)
            temp_sel.set_category(index, best, not additive)
            temp = temp_sel.allowed
            rules.append((b"+@" if additive else b"-@") + best.encode())
            applied.add(best)
        fake_sel = Selector(allowed=fake)
        for cmd in index.commands:
            self._describe_single(index, cmd, fake_sel, rules)
        return b" ".join(rules)

    def _describe_single(self, index: CommandIndex, cmd: Command, fake: Selector, rules: list[bytes]) -> None:
        userbit = cmd.name in self.allowed
        if userbit != (cmd.name in fake.allowed):
            rules.append((b"+" if userbit else b"-") + cmd.name.encode())
            fake.change_perm(index, cmd, userbit)
        for sub in cmd.subcommands.values():
            self._describe_single(index, sub, fake, rules)
        if not userbit:
            for arg in self.firstargs.get(cmd.name, ()):
                rules.append(b"+" + cmd.name.encode() + b"|" + arg)

    def describe_keys(self) -> list[bytes]:
        if self.allkeys:
            return [b"~*"]
        return [_pattern_string(p, f) for p, f in self.patterns]

    def describe(self, index: CommandIndex) -> bytes:
        """ACLDescribeSelector: keys, channels, commands."""
        parts = self.describe_keys()
        if self.allchannels:
            parts.append(b"&*")
        else:
            parts.append(b"resetchannels")
            parts.extend(b"&" + c for c in self.channels)
        parts.append(self.describe_commands(index))
        return b" ".join(parts)


def _pattern_string(pattern: bytes, flags: int) -> bytes:
    if flags == PERM_ALL:
        return b"~" + pattern
    if flags == PERM_READ:
        return b"%R~" + pattern
    return b"%W~" + pattern


@dataclass(eq=False)
class User:
    name: bytes
    enabled: bool = False
    nopass: bool = False
    sanitize: int = 0  # 0 unset, 1 sanitize-payload, 2 skip-sanitize-payload
    passwords: list[bytes] = field(default_factory=list)
    selectors: list[Selector] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.selectors:
            self.selectors.append(Selector(root=True))

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def copy(self, name: bytes | None = None) -> User:
        return User(
            self.name if name is None else name,
            self.enabled,
            self.nopass,
            self.sanitize,
            list(self.passwords),
            [s.copy() for s in self.selectors],
        )

    @property
    def unrestricted(self) -> bool:
        r = self.root
        return r.allcommands and r.allkeys and r.allchannels

    def flag_names(self) -> list[bytes]:
        out = [b"on" if self.enabled else b"off"]
        if self.nopass:
            out.append(b"nopass")
        if self.sanitize == 2:
            out.append(b"skip-sanitize-payload")
        elif self.sanitize == 1:
            out.append(b"sanitize-payload")
        return out

    def apply(self, index: CommandIndex, op: bytes, pubsub_default_all: bool) -> None:
        """ACLSetUser: one rule."""
        if not op:
            return
        low = op.lower()
        if low == b"on":
            self.enabled = True
        elif low == b"off":
            self.enabled = False
        elif low == b"skip-sanitize-payload":
            self.sanitize = 2
        elif low == b"sanitize-payload":
            self.sanitize = 1
        elif low == b"nopass":
            self.nopass = True
            self.passwords = []
        elif low == b"resetpass":
            self.nopass = False
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            if op[:1] == b">":
                h = hash_password(op[1:])
            else:
                h = op[1:]
                if not _valid_hash(h):
                    raise RuleError("EBADMSG")
            if h not in self.passwords:
                self.passwords.append(h)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            if op[:1] == b"<":
                h = hash_password(op[1:])
            else:
                h = op[1:]
                if not _valid_hash(h):
                    raise RuleError("EBADMSG")
            if h not in self.passwords:
                raise RuleError("ENODEV")
            self.passwords.remove(h)
        elif op[:1] == b"(" and op[-1:] == b")":
            sel = Selector(allchannels=pubsub_default_all)
            for part in split_args(op[1:-1]):
                sel.apply(index, part)
            self.selectors.append(sel)
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            self.nopass = False
            self.passwords = []
            root = self.root
            root.allkeys = False
            root.patterns = []
            root.allchannels = pubsub_default_all
            root.channels = []
            self.enabled = False
            self.sanitize = 1
            del self.selectors[1:]
            root.apply(index, b"-@all")
        else:
            self.root.apply(index, op)

    def check_password(self, password: bytes) -> bool:
        if not self.enabled:
            return False
        if self.nopass:
            return True
        h = hash_password(password)
        ok = False
        for p in self.passwords:
            ok |= hmac.compare_digest(p, h)
        return ok

    def describe(self, index: CommandIndex) -> bytes:
        """ACLDescribeUser: flags, password hashes, root selector, then ``(selectors)``."""
        out = b" ".join(self.flag_names())
        for p in self.passwords:
            out += b" #" + p
        for sel in self.selectors:
            d = sel.describe(index)
            out += (b" " + d) if sel.root else (b" (" + d + b")")
        return out


def split_args(text: bytes) -> list[bytes]:
    """Split a selector body on spaces (Redis's sdssplitargs for the plain case)."""
    return [p for p in text.replace(b"\t", b" ").split(b" ") if p]


def merge_selector_args(args: list[bytes]) -> tuple[list[bytes] | None, int]:
    """ACLMergeSelectorArguments: join ``(a b c)`` spread over several arguments."""
    out: list[bytes] = []
    current: bytes | None = None
    start = -1
    for j, op in enumerate(args):
        if op[:1] == b"(" and op[-1:] != b")":
            current = op
            start = j
            continue
        if start != -1:
            current = (current or b"") + b" " + op
            if op[-1:] == b")":
                start = -1
                out.append(current)
            continue
        out.append(op)
    if start != -1:
        return None, start
    return out, -1


@dataclass(eq=False)
class LogEntry:
    count: int
    reason: int
    context: bytes
    obj: bytes
    username: bytes
    ctime_ms: int
    cinfo: bytes


class Acl:
    """The users table, the ACL LOG and the permission gate of one server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.index = CommandIndex(server)
        self.users: dict[bytes, User] = {}
        self.log: list[LogEntry] = []
        self.denied: dict[str, int] = {"auth": 0, "cmd": 0, "key": 0, "channel": 0}
        server.extensions["acl_denied"] = self.denied
        default = User(b"default")
        for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            default.apply(self.index, op, self.pubsub_default_all)
        self.users[b"default"] = default
        self._gate_on = False

    @property
    def default(self) -> User:
        return self.users[b"default"]

    @property
    def pubsub_default_all(self) -> bool:
        return self.server.config["acl-pubsub-default"] == "allchannels"

    # ------------------------------------------------------------------ users

    def new_user(self, name: bytes) -> User:
        return User(name, selectors=[Selector(root=True, allchannels=self.pubsub_default_all)])

    def set_user(self, name: bytes, ops: list[bytes], current: Client | None = None) -> None:
        """ACL SETUSER: all rules apply to a copy; nothing changes unless every rule is valid."""
        existing = self.users.get(name)
        temp = existing.copy() if existing is not None else self.new_user(name)
        for op in ops:
            try:
                temp.apply(self.index, op, self.pubsub_default_all)
            except RuleError as e:
                raise CommandError(
                    f"ERR Error in ACL SETUSER modifier '{op.decode('utf-8', 'replace')}': {e.message}"
                ) from None
        if existing is not None:
            self._kill_pubsub_clients_if_needed(temp, existing)
            existing.enabled, existing.nopass, existing.sanitize = temp.enabled, temp.nopass, temp.sanitize
            existing.passwords, existing.selectors = temp.passwords, temp.selectors
        else:
            self.users[name] = temp
        self.update_gate()

    def delete_users(self, names: list[bytes], current: Client | None) -> int:
        deleted = 0
        for name in names:
            if self.users.pop(name, None) is not None:
                deleted += 1
                self.kill_clients_of(name, current)
        self.update_gate()
        return deleted

    def kill_clients_of(self, name: bytes, current: Client | None) -> None:
        """ACLFreeUserAndKillClients: back to the default user, unauthenticated, disconnected."""
        for c in list(self.server.clients.values()):
            if c.user == name:
                c.user = b"default"
                c.authenticated = False
                c.parser.authenticated = False
                if c is current:
                    c.close_after_reply = True
                else:
                    c.close()

    def _kill_pubsub_clients_if_needed(self, new: User, original: User) -> None:
        if any(s.allchannels for s in new.selectors):
            return
        upcoming = [ch for s in new.selectors for ch in s.channels]
        if all(ch in upcoming for s in original.selectors for ch in s.channels):
            return
        for c in list(self.server.clients.values()):
            if c.user != original.name or not (c.channels or c.patterns or c.shard_channels):
                continue
            kill = any(p not in upcoming for p in c.patterns)
            if not kill:
                kill = any(not any(glob_match(u, ch) for u in upcoming) for ch in (*c.channels, *c.shard_channels))
            if kill:
                c.close()

    def default_authenticated(self) -> bool:
        """clientSetDefaultAuth: a new connection is logged in when default is nopass and on."""
        d = self.default
        return d.nopass and d.enabled

    def update_default_password(self, password: str) -> None:
        """requirepass: resetpass, then >password (or nopass when empty)."""
        d = self.default
        d.apply(self.index, b"resetpass", self.pubsub_default_all)
        if password:
            d.apply(self.index, b">" + password.encode(), self.pubsub_default_all)
        else:
            d.apply(self.index, b"nopass", self.pubsub_default_all)

    # ------------------------------------------------------------------ authentication

    def authenticate(self, client: Client, username: bytes, password: bytes) -> bool:
        argv = client.argv
        if (
            username == b"default"
            and len(argv) == 2
            and argv[0].lower() == b"auth"
            and self.default.nopass
        ):
            raise CommandError(
                "ERR AUTH <password> called without any password configured for the default user. "
                "Are you sure your configuration is correct?"
            )
        user = self.users.get(username)
        if user is not None and user.check_password(password):
            return True
        self.denied["auth"] += 1
        self.add_log(client, DENIED_AUTH, 0, username, client.argv[0] if client.argv else b"AUTH")
        return False

    # ------------------------------------------------------------------ permission checks

    def check(self, user: User, cmd: Command, argv: list[bytes]) -> tuple[int, int]:
        """ACLCheckAllUserCommandPerm: (0, 0) or the most relevant (reason, index)."""
        relevant, last_idx = DENIED_CMD, 0
        for sel in user.selectors:
            reason, idx = sel.check_command(self.index, cmd, argv)
            if not reason:
                return 0, 0
            if reason > relevant or (reason == relevant and idx > last_idx):
                relevant, last_idx = reason, idx
        return relevant, last_idx

    def gate(self, client: Client, cmd: Command, argv: list[bytes]) -> bytes | None:
        """Before a command runs: NOPERM and an ACL LOG entry when the user may not run it.

        The link from our primary is exempt, as Redis's master client has no user."""
        user = self.users.get(client.user)
        if user is None or user.unrestricted or client.is_master:
            return None
        reason, idx = self.check(user, cmd, argv)
        if not reason:
            return None
        self.add_log(client, reason, idx, None, None, cmd)
        if reason == DENIED_CMD:
            self.denied["cmd"] += 1
            return b"NOPERM this user has no permissions to run the '%s' command" % cmd.name.encode()
        if reason == DENIED_KEY:
            self.denied["key"] += 1
            return NOPERM_KEY
        self.denied["channel"] += 1
        return NOPERM_CHANNEL

    def check_command(self, client: Client, cmd: Command, argv: list[bytes]) -> int | None:
        """None when ``client``'s user may run ``argv``, else the denial reason (no log entry).

        The contract ``redis.acl_check_cmd`` in the scripting engine uses."""
        user = self.users.get(client.user)
        if user is None or user.unrestricted:
            return None
        reason, _ = self.check(user, cmd, argv)
        return reason or None

    def script_check(self, caller: Client, cmd: Command, argv: list[bytes]) -> bytes | None:
        """For ``redis.call`` inside a script run by ``caller``: None, or Redis's error (logged
        with context ``lua``).  The engine appends its ``script: <sha>, on @user_script:N.``."""
        user = self.users.get(caller.user)
        if user is None or user.unrestricted:
            return None
        reason, idx = self.check(user, cmd, argv)
        if not reason:
            return None
        saved = caller.argv
        caller.argv = argv
        try:
            self.add_log(caller, reason, idx, None, None, cmd, context=b"lua")
        finally:
            caller.argv = saved
        if reason == DENIED_CMD:
            self.denied["cmd"] += 1
            return b"ERR The user executing the script can't run this command or subcommand"
        if reason == DENIED_KEY:
            self.denied["key"] += 1
            return b"ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"
        self.denied["channel"] += 1
        return b"ERR The user executing the script can't publish to the channel mentioned in the command"

    def exec_check(self, client: Client, cmd: Command, argv: list[bytes]) -> bytes | None:
        """EXEC re-checks each queued command (rules may have changed since it was queued):
        None, or Redis's NOPERM error, logged with context ``multi``."""
        user = self.users.get(client.user)
        if user is None or user.unrestricted:
            return None
        reason, idx = self.check(user, cmd, argv)
        if not reason:
            return None
        saved = client.argv
        client.argv = argv
        try:
            self.add_log(client, reason, idx, None, None, cmd, context=b"multi")
        finally:
            client.argv = saved
        why = _EXEC_REASONS.get(reason, "no permission")
        return (
            b"NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. "
            b"This command is no longer allowed for the following reason: " + why.encode()
        )

    def needs_gate(self) -> bool:
        return len(self.users) > 1 or not self.default.unrestricted or len(self.default.selectors) > 1

    def update_gate(self) -> None:
        """Register the gate only while some user could be refused something."""
        server = self.server
        want = self.needs_gate()
        if want and not self._gate_on:
            server.extensions["acl_gate"] = self.gate
            # For EXEC and scripts (their families call these when present).
            server.extensions["acl_exec_check"] = self.exec_check
            server.extensions["acl_script_check"] = self.script_check
            server.command_gates.append(_gated_marker)
            self._gate_on = True
        elif not want and self._gate_on:
            server.extensions.pop("acl_gate", None)
            server.extensions.pop("acl_exec_check", None)
            server.extensions.pop("acl_script_check", None)
            if _gated_marker in server.command_gates:
                server.command_gates.remove(_gated_marker)
            self._gate_on = False

    # ------------------------------------------------------------------ ACL LOG

    def add_log(
        self,
        client: Client,
        reason: int,
        idx: int,
        username: bytes | None,
        obj: bytes | None,
        cmd: Command | None = None,
        context: bytes | None = None,
    ) -> None:
        server = self.server
        if obj is None:
            if reason == DENIED_CMD and cmd is not None:
                obj = cmd.name.encode()
            else:
                obj = client.argv[idx] if idx < len(client.argv) else b""
        real = server.script_caller if server.in_script and server.script_caller is not None else client
        try:
            from snakedis.commands.client import client_info_line

            name = cmd.error_name if cmd is not None else (client.argv[0].lower() if client.argv else b"NULL")
            cinfo = client_info_line(real, real, name)
        except Exception:  # the log never fails the command
            cinfo = b""
        if context is None:
            context = b"multi" if client.multi is not None or client.in_exec else b"toplevel"
        entry = LogEntry(1, reason, context, obj, username if username is not None else client.user, _now_ms(), cinfo)
        for i, cur in enumerate(self.log[:10]):
            if (
                cur.reason == entry.reason
                and cur.context == entry.context
                and abs(cur.ctime_ms - entry.ctime_ms) <= LOG_GROUPING_MAX_MS
                and cur.obj == entry.obj
                and cur.username == entry.username
            ):
                del self.log[i]
                cur.cinfo, cur.ctime_ms = entry.cinfo, entry.ctime_ms
                cur.count += 1
                self.log.insert(0, cur)
                return
        self.log.insert(0, entry)
        limit = server.config["acllog-max-len"]
        if len(self.log) > limit:
            del self.log[limit:]

    def log_reply(self, count: int) -> list[Any]:
        now = _now_ms()
        out: list[Any] = []
        for le in self.log[: max(0, count)]:
            out.append(
                {
                    b"count": le.count,
                    b"reason": REASON_NAMES[le.reason],
                    b"context": le.context,
                    b"object": le.obj,
                    b"username": le.username,
                    b"age-seconds": (now - le.ctime_ms) / 1000,
                    b"client-info": le.cinfo,
                }
            )
        return out

    # ------------------------------------------------------------------ files

    def save(self, path: str) -> bool:
        lines = b"".join(b"user " + u.name + b" " + u.describe(self.index) + b"\n" for u in self._sorted_users())
        tmp = f"{path}.tmp-{os.getpid()}-{int(time.time() * 1000)}"
        try:
            with open(tmp, "wb") as f:
                f.write(lines)
            os.replace(tmp, path)
        except OSError as e:
            self.server.log(f"Writing ACL file for ACL SAVE: {e.strerror}", "warning")
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False
        return True

    def _sorted_users(self) -> list[User]:
        return [self.users[k] for k in sorted(self.users)]

    def load_file(self, path: str, current: Client | None) -> bytes | None:
        """ACLLoadFromFile: all or nothing; returns the error line or None."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            return b"Error loading ACLs, opening file '%s': %s" % (path.encode(), (e.strerror or "").encode())
        fname = path.encode()
        errors = b""
        users: dict[bytes, User] = {}
        for i, line in enumerate(data.split(b"\n")):
            linenum = i + 1
            line = line.strip(b" \t\r\n")
            if not line:
                continue
            argv = [a for a in line.split(b" ") if a]
            if not argv:
                continue
            if argv[0] != b"user" or len(argv) < 2:
                errors += b"%s:%d should start with user keyword followed by the username. " % (fname, linenum)
                continue
            if has_spaces(argv[1]):
                errors += b"'%s:%d: username '%s' contains invalid characters. " % (fname, linenum, argv[1])
                continue
            if argv[1] in users:
                errors += b"WARNING: Duplicate user '%s' found on line %d. " % (argv[1], linenum)
                continue
            u = self.new_user(argv[1])
            users[argv[1]] = u
            merged, _ = merge_selector_args(argv[2:])
            if merged is None:
                errors += b"%s:%d: Unmatched parenthesis in selector definition." % (fname, linenum)
                merged = []
            for op in merged:
                try:
                    u.apply(self.index, op.strip(b"\t\r\n"), self.pubsub_default_all)
                except RuleError as e:
                    errors += b"%s:%d: Error in applying operation '%s': %s. " % (
                        fname,
                        linenum,
                        op,
                        e.message.encode(),
                    )
        if errors:
            return errors + b"WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        self.replace_users(users, current)
        return None

    def replace_users(self, users: dict[bytes, User], current: Client | None) -> None:
        """Install a new user set; the default user is rewritten in place, the others' clients go."""
        new_default = users.pop(b"default", None)
        if new_default is None:
            new_default = User(b"default")
            for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
                new_default.apply(self.index, op, self.pubsub_default_all)
        d = self.default
        d.enabled, d.nopass, d.sanitize = new_default.enabled, new_default.nopass, new_default.sanitize
        d.passwords, d.selectors = new_default.passwords, new_default.selectors
        old = [n for n in self.users if n != b"default"]
        self.users = {b"default": d, **users}
        for name in old:
            self.kill_clients_of(name, current)
        self.update_gate()

    def load_config_users(self, entries: list[list[bytes]]) -> None:
        """``user`` directives of the config file (ACLLoadConfiguredUsers); raise ValueError on a bad rule."""
        for argv in entries:
            name = argv[0]
            if has_spaces(name):
                raise ValueError("Spaces not allowed in ACL usernames")
            u = self.users.get(name)
            if u is None:
                u = self.users[name] = self.new_user(name)
            else:
                u.apply(self.index, b"reset", self.pubsub_default_all)
            merged, _ = merge_selector_args(argv[1:])
            if merged is None:
                raise ValueError(f"Unmatched parenthesis in selector definition for user '{name.decode()}'")
            for op in merged:
                try:
                    u.apply(self.index, op, self.pubsub_default_all)
                except RuleError as e:
                    raise ValueError(
                        f"Error loading ACL rule '{op.decode('utf-8', 'replace')}' for the user named "
                        f"'{name.decode('utf-8', 'replace')}': {e.message}"
                    ) from None
        self.update_gate()


def _gated_marker(client: Any, cmd: Any, argv: list[bytes]) -> None:
    """Keeps the dispatcher on its gated path while ACL checks are needed (the check itself
    runs earlier, as ``extensions["acl_gate"]``, in Redis's order: before MULTI queueing)."""
    return None


def _now_ms() -> int:
    return int(time.time() * 1000)


def install(server: Server) -> Acl:
    """Create the server's ACL state (idempotent); ``requirepass`` sets the default password."""
    acl = server.extensions.get("acl")
    if acl is not None:
        return acl  # type: ignore[no-any-return]
    acl = Acl(server)
    server.extensions["acl"] = acl
    required = server.config["requirepass"]
    if required:
        acl.update_default_password(required)
    server.config.watch("requirepass", lambda v: acl.update_default_password(v))
    acl.update_gate()
    return acl



def load_at_startup(server: Server) -> str | None:
    """ACLLoadUsersAtStartup: config-file ``user`` lines or the ``aclfile``; an error text or None."""
    acl = install(server)
    entries: list[list[bytes]] = server.config.__dict__.get("acl_user_directives") or []
    path = server.config["aclfile"]
    if path and entries:
        return (
            "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is "
            "invalid. This setup is very likely to lead to configuration errors and security holes, please "
            "define either an ACL file or declare users directly in your redis.conf, but not both."
        )
    try:
        acl.load_config_users(entries)
    except ValueError as e:
        return f"{e}. Critical error while loading ACLs. Exiting."
    if path:
        errors = acl.load_file(path, None)
        if errors is not None:
            return "Aborting Redis startup because of ACL errors: " + errors.decode("utf-8", "replace")
    return None
