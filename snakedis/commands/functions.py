"""FUNCTION (LOAD/LIST/DELETE/FLUSH/STATS/KILL/HELP), FCALL and FCALL_RO.

Invariants: ``Functions.libraries`` maps a library name to its ``Library`` (code and its
functions); ``Functions.functions`` maps every function name to its ``FunctionInfo`` and is
exactly the union of the libraries' functions.  A library body runs once at load time, in a
sandbox whose ``redis`` only offers ``register_function``/``log``/``setresp`` and constants;
its callbacks then see the full ``redis`` API.  A failed load changes nothing.
FUNCTION DUMP writes Redis's payload (OP_FUNCTION2 + RDB string per library, RDB version,
CRC64); ``install`` registers the hooks persistence uses to save and load libraries.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

import lupa.lua51 as lua51

from snakedis.commands.scripting import (
    _NUMKEYS,
    FLAG_NO_WRITES,
    FLAG_SHEBANG,
    SHEBANG_FLAGS,
    check_script_flags,
    eval_getkeys,
    numkeys,
)
from snakedis.commands.table import CommandGroup
from snakedis.protocol.errors import CommandError
from snakedis.protocol.resp import OK, SetReply, Simple
from snakedis.scripting.engine import get_engine

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

GROUP = CommandGroup("scripting")
command = GROUP.command

_NAME_RE: Final = re.compile(rb"^[A-Za-z0-9_]+$")
_NAME_ERROR: Final = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"


class FunctionInfo:
    __slots__ = ("name", "fn", "flags", "description", "library")

    def __init__(self, name: bytes, fn: Any, flags: int, description: bytes | None, library: bytes) -> None:
        self.name = name
        self.fn = fn
        self.flags = flags
        self.description = description
        self.library = library


class Library:
    __slots__ = ("name", "code", "functions")

    def __init__(self, name: bytes, code: bytes) -> None:
        self.name = name
        self.code = code
        self.functions: dict[bytes, FunctionInfo] = {}


class Functions:
    def __init__(self) -> None:
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, FunctionInfo] = {}


def get_functions(server: Server) -> Functions:
    f = server.extensions.get("functions")
    if f is None:
        f = server.extensions["functions"] = Functions()
    return f  # type: ignore[no-any-return]


def _parse_metadata(code: bytes) -> bytes:
    if not code.startswith(b"#!"):
        raise CommandError("ERR Missing library metadata")
    nl = code.find(b"\n")
    line = code if nl < 0 else code[:nl]
    parts = line[2:].split()
    if not parts:
        raise CommandError("ERR Missing library metadata")
    engine = parts[0]
    name = None
    for part in parts[1:]:
        if part.startswith(b"name="):
            name = part[5:]
        else:
            raise CommandError(b"ERR Invalid metadata value given: " + part)
    if engine.upper() != b"LUA":
        raise CommandError(b"ERR Engine '" + engine + b"' not found")
    if name is None:
        raise CommandError("ERR Library name was not given")
    if not _NAME_RE.match(name):
        raise CommandError(_NAME_ERROR)
    return name


def _lua_flags(tab: Any) -> int | None:
    flags = 0
    if tab is None:
        return 0
    if lua51.lua_type(tab) != "table":
        return None
    for v in tab.values():
        bit = SHEBANG_FLAGS.get(v) if type(v) is bytes else None
        if bit is None:
            return None
        flags |= bit
    return flags


def load_library(server: Server, code: bytes, replace: bool, restoring: bool = False) -> bytes:
    """FUNCTION LOAD's work; returns the library name."""
    funcs = get_functions(server)
    name = _parse_metadata(code)
    old = funcs.libraries.get(name)
    if old is not None and not replace:
        if restoring:
            raise CommandError(b"ERR Library " + name + b" already exists")
        raise CommandError(b"ERR Library '" + name + b"' already exists")
    lib = Library(name, code)
    errors: list[bytes] = []

    def register(*args: Any) -> bytes | None:
        if len(args) == 1:
            tab = args[0]
            if lua51.lua_type(tab) != "table":
                return b"ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."
            fname = cb = desc = flags_t = None
            for k, v in tab.items():
                if k == b"function_name":
                    fname = v
                elif k == b"callback":
                    cb = v
                elif k == b"description":
                    desc = v
                elif k == b"flags":
                    flags_t = v
                else:
                    return b"ERR unknown argument given to redis.register_function"
            if type(fname) is not bytes:
                return b"ERR redis.register_function must get a function name argument"
            if lua51.lua_type(cb) != "function":
                return b"ERR redis.register_function must get a callback argument"
            flags = _lua_flags(flags_t)
            if flags is None:
                return b"ERR unknown flag given"
            if desc is not None and type(desc) is not bytes:
                return b"ERR description must be a string"
        elif len(args) == 2:
            fname, cb = args
            desc, flags = None, 0
            if type(fname) is not bytes:
                return b"ERR first argument to redis.register_function must be a string"
            if lua51.lua_type(cb) != "function":
                return b"ERR second argument to redis.register_function must be a function"
        else:
            return b"ERR wrong number of arguments to redis.register_function"
        if not _NAME_RE.match(fname):
            return _NAME_ERROR.encode()
        if fname in lib.functions:
            return b"ERR Function already exists in the library"
        lib.functions[fname] = FunctionInfo(fname, cb, flags | FLAG_SHEBANG, desc, name)
        return None

    engine = get_engine(server)
    body = code[code.find(b"\n") :] if b"\n" in code else b""
    try:
        engine.compile(body, b"@user_function")
    except ValueError as e:
        msg = e.args[0] if isinstance(e.args[0], bytes) else str(e.args[0]).encode()
        raise CommandError(b"ERR Error compiling function: " + msg) from None
    ok, err = engine.load_library(body, register)
    if not ok:
        if errors:
            raise CommandError(b"ERR Error registering functions: " + errors[0])
        msg = err[b"err"] if lua51.lua_type(err) == "table" else err
        if type(msg) is not bytes:
            msg = str(msg).encode()
        raise CommandError(b"ERR Error registering functions: " + msg)
    if not lib.functions:
        raise CommandError("ERR No functions registered")
    for fname in lib.functions:
        other = funcs.functions.get(fname)
        if other is not None and other.library != name:
            raise CommandError(b"ERR Function " + fname + b" already exists")
    if old is not None:
        for fname in old.functions:
            funcs.functions.pop(fname, None)
    funcs.libraries[name] = lib
    funcs.functions.update(lib.functions)
    return name


GROUP.container("function", -2)


@command("function|load", -3, "write denyoom noscript", categories="@scripting")
def function_load(client: Client, args: list[bytes]) -> Any:
    """FUNCTION LOAD [REPLACE] function-code -> the library name."""
    replace = False
    i = 2
    while i < len(args) - 1:
        if args[i].lower() == b"replace":
            replace = True
        else:
            raise CommandError(b"ERR Unknown option given: " + args[i])
        i += 1
    if i != len(args) - 1:
        raise CommandError("ERR Function code is missing")
    name = load_library(client.server, args[-1], replace)
    client.server.dirty += 1
    return name


@command("function|delete", 3, "write noscript", categories="@scripting")
def function_delete(client: Client, args: list[bytes]) -> Any:
    """FUNCTION DELETE library-name -> OK."""
    funcs = get_functions(client.server)
    lib = funcs.libraries.pop(args[2], None)
    if lib is None:
        raise CommandError("ERR Library not found")
    for fname in lib.functions:
        funcs.functions.pop(fname, None)
    client.server.dirty += 1
    return OK


@command("function|flush", -2, "write noscript", categories="@scripting")
def function_flush(client: Client, args: list[bytes]) -> Any:
    """FUNCTION FLUSH [ASYNC|SYNC] -> OK."""
    if len(args) > 3 or (len(args) == 3 and args[2].lower() not in (b"sync", b"async")):
        raise CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    funcs = get_functions(client.server)
    funcs.libraries.clear()
    funcs.functions.clear()
    client.server.dirty += 1
    return OK


def _glob_match(pattern: bytes, name: bytes) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name.decode("latin-1"), pattern.decode("latin-1"))


@command("function|list", -2, "noscript", categories="@scripting")
def function_list(client: Client, args: list[bytes]) -> Any:
    """FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE] -> the libraries and their functions."""
    pattern = None
    withcode = False
    i = 2
    while i < len(args):
        a = args[i].lower()
        if a == b"withcode" and not withcode:
            withcode = True
        elif a == b"libraryname" and pattern is None:
            if i + 1 >= len(args):
                raise CommandError("ERR library name argument was not given")
            pattern = args[i + 1]
            i += 1
        else:
            raise CommandError(b"ERR Unknown argument " + args[i])
        i += 1
    out = []
    for lib in get_functions(client.server).libraries.values():
        if pattern is not None and not _glob_match(pattern, lib.name):
            continue
        fl = []
        for f in lib.functions.values():
            names = [Simple(n) for n, bit in SHEBANG_FLAGS.items() if f.flags & bit]
            fl.append({b"name": f.name, b"description": f.description, b"flags": SetReply(names)})
        entry: dict[Any, Any] = {b"library_name": lib.name, b"engine": b"LUA", b"functions": fl}
        if withcode:
            entry[b"library_code"] = lib.code
        out.append(entry)
    return out


@command("function|stats", 2, "noscript allow_busy", categories="@scripting")
def function_stats(client: Client, args: list[bytes]) -> Any:
    """FUNCTION STATS -> the running function (or nil) and per-engine counts."""
    from snakedis.scripting.engine import BUSY_EVAL

    engine = client.server.extensions.get("scripting")
    ctx = engine.running if engine is not None else None
    if ctx is not None and ctx.is_eval:
        raise CommandError(BUSY_EVAL)
    running: Any = None
    if ctx is not None:
        import time

        running = {
            b"name": ctx.name,
            b"command": list(ctx.caller.argv),
            b"duration_ms": int((time.monotonic() - ctx.start) * 1000),
        }
    funcs = get_functions(client.server)
    return {
        b"running_script": running,
        b"engines": {
            b"LUA": {b"libraries_count": len(funcs.libraries), b"functions_count": len(funcs.functions)}
        },
    }


@command("function|kill", 2, "noscript allow_busy", categories="@scripting")
def function_kill(client: Client, args: list[bytes]) -> Any:
    """FUNCTION KILL -> OK, or NOTBUSY / UNKILLABLE."""
    return get_engine(client.server).kill(False)


def dump_payload(server: Server) -> bytes:
    """Redis's FUNCTION DUMP payload: OP_FUNCTION2 + code per library, RDB version, CRC64."""
    from snakedis.persistence import rdbformat as F

    compress = bool(server.config["rdbcompression"])
    body = b"".join(
        bytes((F.OP_FUNCTION2,)) + F.encode_string(lib.code, compress)
        for lib in get_functions(server).libraries.values()
    )
    body += F.RDB_VERSION.to_bytes(2, "little")
    return body + F.crc64(body).to_bytes(8, "little")


def parse_payload(payload: bytes) -> list[bytes]:
    """The library codes in a FUNCTION DUMP payload; CommandError when it is not valid."""
    from snakedis.persistence import rdbformat as F

    bad = CommandError("ERR DUMP payload version or checksum are wrong")
    if len(payload) < 10:
        raise bad
    version = int.from_bytes(payload[-10:-8], "little")
    crc = int.from_bytes(payload[-8:], "little")
    if version > F.RDB_VERSION or (crc and F.crc64(payload[:-8]) != crc):
        raise bad
    reader = F.RdbReader(payload[:-10])
    codes = []
    while reader.pos < len(reader.data):
        op = reader.data[reader.pos]
        reader.pos += 1
        if op == F.OP_FUNCTION_PRE_GA:
            raise CommandError("ERR Pre-GA function format not supported")
        if op != F.OP_FUNCTION2:
            raise CommandError("ERR given type is not a function")
        try:
            codes.append(reader.string())
        except F.RdbFormatError:
            raise CommandError("ERR Failed loading library") from None
    return codes


@command("function|dump", 2, "noscript", categories="@scripting")
def function_dump(client: Client, args: list[bytes]) -> Any:
    """FUNCTION DUMP -> the serialized libraries (bulk string)."""
    return dump_payload(client.server)


@command("function|restore", -3, "write denyoom noscript", categories="@scripting")
def function_restore(client: Client, args: list[bytes]) -> Any:
    """FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] -> OK."""
    policy = b"append"
    if len(args) > 4:
        raise CommandError("ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP.")
    if len(args) == 4:
        policy = args[3].lower()
        if policy not in (b"flush", b"append", b"replace"):
            raise CommandError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    codes = parse_payload(args[2])
    server = client.server
    funcs = get_functions(server)
    saved_libs, saved_funcs = dict(funcs.libraries), dict(funcs.functions)
    try:
        if policy == b"flush":
            funcs.libraries.clear()
            funcs.functions.clear()
        for code in codes:
            load_library(server, code, policy != b"append", restoring=True)
    except CommandError:
        funcs.libraries, funcs.functions = saved_libs, saved_funcs
        raise
    server.dirty += 1
    return OK


def install(server: Server) -> None:
    """Hooks persistence and replication use: the library codes to save, and a loader."""
    server.extensions["functions_rdb_blobs"] = lambda: [lib.code for lib in get_functions(server).libraries.values()]
    server.extensions["functions_load_rdb"] = lambda code: load_library(server, code, True)


_FUNCTION_HELP: Final = [
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
]


@command("function|help", 2, "loading stale", categories="@scripting")
def function_help(client: Client, args: list[bytes]) -> Any:
    """FUNCTION HELP -> array of help lines."""
    return [Simple(line.encode()) for line in _FUNCTION_HELP]


def _fcall(client: Client, args: list[bytes], read_only: bool) -> Any:
    server = client.server
    funcs = server.extensions.get("functions") or get_functions(server)
    f = funcs.functions.get(args[1])
    if f is None:
        raise CommandError("ERR Function not found")
    n = _NUMKEYS.get(args[2])  # a small count is a dict hit, not a parse
    if n is None or n > len(args) - 3:
        n = numkeys(args, "ERR Bad number of keys provided")
    flags = f.flags
    if flags:
        check_script_flags(client, flags, read_only, False)
        read_only = read_only or bool(flags & FLAG_NO_WRITES)
    engine = server.extensions.get("scripting") or get_engine(server)
    return engine.run(client, f.fn, f.name, args, n, False, read_only)


@command("fcall", -3, "noscript stale skip_monitor no_mandatory_keys movablekeys", categories="@scripting", getkeys=eval_getkeys)
def fcall(client: Client, args: list[bytes]) -> Any:
    """FCALL function numkeys [key ...] [arg ...] -> the function's reply."""
    return _fcall(client, args, False)


@command(
    "fcall_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys movablekeys", categories="@scripting", getkeys=eval_getkeys
)
def fcall_ro(client: Client, args: list[bytes]) -> Any:
    """FCALL_RO function numkeys [key ...] [arg ...] -> the reply of a function that may not write."""
    return _fcall(client, args, True)
