"""EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD/EXISTS/FLUSH/KILL/HELP).

Invariants: the script cache (``ScriptEngine.scripts``) maps the lower-case hex SHA1 of a
body to ``(lua function, shebang flags)``; a body is compiled once and cached even if it only
ran through EVAL.  Shebang parsing follows Redis's ``evalExtractShebangFlags``: the shebang
line is dropped but its newline kept so line numbers in errors match.  The runtime itself
(sandbox, conversions, busy scripts) lives in ``snakedis.scripting.engine``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import parse_int
from snakedis.commands.table import CommandGroup
from snakedis.protocol.errors import NOT_INTEGER, CommandError
from snakedis.protocol.resp import OK, Simple
from snakedis.scripting.engine import get_engine, sha1hex

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("scripting")
command = GROUP.command

FLAG_NO_WRITES: Final = 1
FLAG_ALLOW_OOM: Final = 2
FLAG_ALLOW_STALE: Final = 4
FLAG_NO_CLUSTER: Final = 8
FLAG_ALLOW_CROSS_SLOT: Final = 16
FLAG_SHEBANG: Final = 1 << 10  # the script declared a shebang (not a legacy script)

SHEBANG_FLAGS: Final = {
    b"no-writes": FLAG_NO_WRITES,
    b"allow-oom": FLAG_ALLOW_OOM,
    b"allow-stale": FLAG_ALLOW_STALE,
    b"no-cluster": FLAG_NO_CLUSTER,
    b"allow-cross-slot-keys": FLAG_ALLOW_CROSS_SLOT,
}


def eval_getkeys(args: list[bytes]) -> list[int]:
    """Key positions of EVAL/EVALSHA/FCALL: ``numkeys`` keys after argument 2."""
    try:
        n = int(args[2])
    except (ValueError, IndexError):
        return []
    if n <= 0 or n > len(args) - 3:
        return []
    return list(range(3, 3 + n))


def parse_shebang(body: bytes) -> tuple[int, bytes]:
    """(flags, code) of a script body; raises Redis's errors for a bad shebang."""
    if not body.startswith(b"#!"):
        return 0, body
    nl = body.find(b"\n")
    line = body if nl < 0 else body[:nl]
    code = b"" if nl < 0 else body[nl:]
    parts = line.split()
    if parts[0] != b"#!lua":
        raise CommandError(b"ERR Unexpected engine in script shebang: " + parts[0])
    flags = FLAG_SHEBANG
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise CommandError(b"ERR Unknown lua shebang option: " + part)
        for f in part[6:].split(b","):
            if not f:
                continue
            bit = SHEBANG_FLAGS.get(f)
            if bit is None:
                raise CommandError(b"ERR Unexpected flag in script shebang: " + f)
            flags |= bit
    return flags, code


def load_script(client: Client, body: bytes, sha: bytes | None = None) -> tuple[bytes, Any, int]:
    """Compile and cache ``body``; returns (sha, function, flags)."""
    engine = get_engine(client.server)
    if sha is None:
        sha = sha1hex(body)
    cached = engine.scripts.get(sha)
    if cached is not None:
        return sha, cached[0], cached[1]
    flags, code = parse_shebang(body)
    try:
        fn = engine.compile(code)
    except ValueError as e:
        msg = e.args[0]
        if isinstance(msg, str):
            msg = msg.encode()
        raise CommandError(b"ERR Error compiling script (new function): " + msg) from None
    engine.scripts[sha] = (fn, flags, body)
    return sha, fn, flags


# numkeys as clients send it, parsed once: a small count is a dict hit, not a parse
_NUMKEYS: Final = {b"%d" % i: i for i in range(64)}


def numkeys(args: list[bytes], error: str = NOT_INTEGER) -> int:
    """``numkeys`` of EVAL*/FCALL* (argument 2), checked against the number of arguments."""
    n = _NUMKEYS.get(args[2])
    if n is None:
        n = parse_int(args[2], error)
        if n < 0:
            raise CommandError("ERR Number of keys can't be negative")
    if n > len(args) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    return n


def check_script_flags(client: Client, flags: int, read_only: bool, is_eval: bool) -> None:
    """Redis's ``scriptPrepareForRun`` checks for scripts that declared flags."""
    if not flags & FLAG_SHEBANG:
        return
    server = client.server
    if not flags & FLAG_NO_WRITES:
        if read_only:
            raise CommandError("ERR Can not execute a script with write flag using *_ro command.")
        if server.is_replica and server.config["replica-read-only"] and not client.is_master:
            raise CommandError("READONLY Can not run script with write flag on readonly replica")


def _eval_generic(client: Client, args: list[bytes], by_sha: bool, read_only: bool) -> Any:
    n = _NUMKEYS.get(args[2])
    if n is None or n > len(args) - 3:
        n = numkeys(args)
    server = client.server
    engine = server.extensions.get("scripting") or get_engine(server)
    if by_sha:
        sha = args[1]
        cached = engine.scripts.get(sha)
        if cached is None:
            sha = sha.lower()
            cached = engine.scripts.get(sha) if len(sha) == 40 else None
            if cached is None:
                raise CommandError("NOSCRIPT No matching script. Please use EVAL.")
        fn, flags = cached[0], cached[1]
    else:
        sha, fn, flags = load_script(client, args[1])
    if flags:
        check_script_flags(client, flags, read_only, True)
        read_only = read_only or bool(flags & FLAG_NO_WRITES)
    return engine.run(client, fn, sha, args, n, True, read_only)


@command("eval", -3, "noscript stale skip_monitor no_mandatory_keys movablekeys", categories="@scripting", getkeys=eval_getkeys)
def eval_(client: Client, args: list[bytes]) -> Any:
    """EVAL script numkeys [key ...] [arg ...] -> the script's reply."""
    return _eval_generic(client, args, False, False)


@command("evalsha", -3, "noscript stale skip_monitor no_mandatory_keys movablekeys", categories="@scripting", getkeys=eval_getkeys)
def evalsha(client: Client, args: list[bytes]) -> Any:
    """EVALSHA sha1 numkeys [key ...] [arg ...] -> the cached script's reply, or NOSCRIPT."""
    # the common case inline: a cached script without shebang flags and a small, valid numkeys
    # (anything else, errors included, takes _eval_generic, which checks in Redis's order)
    engine = client.server.extensions.get("scripting")
    if engine is not None:
        cached = engine.scripts.get(args[1])
        if cached is not None and not cached[1]:
            n = _NUMKEYS.get(args[2])
            if n is not None and n <= len(args) - 3:
                return engine.run(client, cached[0], args[1], args, n, True, False)
    return _eval_generic(client, args, True, False)


@command(
    "eval_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys movablekeys", categories="@scripting", getkeys=eval_getkeys
)
def eval_ro(client: Client, args: list[bytes]) -> Any:
    """EVAL_RO script numkeys [key ...] [arg ...] -> the reply of a script that may not write."""
    return _eval_generic(client, args, False, True)


@command(
    "evalsha_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys movablekeys", categories="@scripting", getkeys=eval_getkeys
)
def evalsha_ro(client: Client, args: list[bytes]) -> Any:
    """EVALSHA_RO sha1 numkeys [key ...] [arg ...] -> like EVALSHA, read-only."""
    return _eval_generic(client, args, True, True)


GROUP.container("script", -2)


@command("script|load", 3, "noscript stale", categories="@scripting")
def script_load(client: Client, args: list[bytes]) -> Any:
    """SCRIPT LOAD script -> the SHA1 of the cached script."""
    sha, _fn, _flags = load_script(client, args[2])
    return sha


@command("script|exists", -3, "noscript", categories="@scripting")
def script_exists(client: Client, args: list[bytes]) -> Any:
    """SCRIPT EXISTS sha1 [sha1 ...] -> array of 1/0."""
    scripts = get_engine(client.server).scripts
    return [1 if a.lower() in scripts else 0 for a in args[2:]]


@command("script|flush", -2, "noscript", categories="@scripting")
def script_flush(client: Client, args: list[bytes]) -> Any:
    """SCRIPT FLUSH [ASYNC|SYNC] -> OK; empties the script cache."""
    if len(args) > 3 or (len(args) == 3 and args[2].lower() not in (b"sync", b"async")):
        raise CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    get_engine(client.server).scripts.clear()
    return OK


@command("script|kill", 2, "noscript allow_busy", categories="@scripting")
def script_kill(client: Client, args: list[bytes]) -> Any:
    """SCRIPT KILL -> OK, or NOTBUSY / UNKILLABLE."""
    return get_engine(client.server).kill(True)


@command("script|debug", 3, "noscript", categories="@scripting")
def script_debug(client: Client, args: list[bytes]) -> Any:
    """SCRIPT DEBUG YES|SYNC|NO -> OK for NO; the Lua debugger is not available."""
    mode = args[2].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        raise CommandError("ERR SCRIPT DEBUG is not supported by this server")
    raise CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO")


_SCRIPT_HELP: Final = [
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
]


@command("script|help", 2, "loading stale", categories="@scripting")
def script_help(client: Client, args: list[bytes]) -> Any:
    """SCRIPT HELP -> array of help lines."""
    return [Simple(line.encode()) for line in _SCRIPT_HELP]
