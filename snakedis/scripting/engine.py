"""The Lua 5.1 runtime (``lupa.lua51``) shared by EVAL and FUNCTION, and the ``redis`` API.

Design and invariants:

* One ``LuaRuntime`` per server (``ScriptEngine``, kept in ``server.extensions["scripting"]``),
  created on first use.  ``bootstrap.lua`` builds the sandbox: scripts see a read-only ``_G``
  (an empty proxy whose ``__index`` is the hidden globals table and whose ``__newindex``
  raises "Attempt to modify a readonly table"), read-only library proxies, no ``io``/``os``
  (but ``os.clock``), ``loadfile``/``dofile``/``print``/``getfenv``/``setfenv``, and a hidden
  error handler that turns every error into Redis's ``{err=..., source=..., line=...}`` table.
  State cannot leak between scripts: nothing a script can reach is writable.
* Compiled scripts are cached by SHA1 (``scripts``) as Lua functions with the sandbox as
  their environment.  A run is one Python -> Lua call: a *runner* made per key count gets
  the function and the request's keys and arguments as varargs, builds ``KEYS``/``ARGV``
  (or the two tables a function receives) and tail-calls it.  Script errors are caught by
  lupa's own pcall, whose handler is Lua's global ``debug.traceback``: bootstrap.lua puts
  its error handler there, which keeps the error table for ``take_error``.
* ``redis.call`` is one Lua -> Python call per command (``_call``): the reply for Lua, or
  ``(None, message)`` for an error, which the Lua side raises (or, for ``redis.pcall``,
  returns as ``{err=...}``).  Commands without subcommands are cached with their arity and
  whether they write, so the common case is checked inline.
* Scripts run commands on one fake client bound to the caller's db, with ``server.in_script``
  set (so the command clock stays frozen).  ``_call`` does ``dispatch.call``'s in-script work
  inline (commandstats, errorstats, latency buckets, SLOWLOG/LATENCY, the caller's client
  tracking, propagation) and hands the rarer states (MONITOR, keyspace NEW events, ACL rules,
  ``set_repl``, writes refused) to ``_run_command``, which uses ``dispatch.call`` itself.  The
  effects are buffered in the engine's own propagation unit (the same contract as
  ``transactions.begin_unit``: the ``propagation_unit_open`` flag, targets swapped for the
  run): they reach AOF/replicas as the commands themselves, wrapped in MULTI/EXEC when there
  is more than one; inside EXEC the transaction's unit collects them.
* Slow scripts (the BUSY state) are handled in the event-loop thread, as Redis does: a Lua
  count hook calls ``busy_check`` every 10000 instructions; once the script has run longer
  than ``busy-reply-threshold`` the hook installs a ``command_gate`` that answers -BUSY, and
  polls the other clients' sockets itself (``select.poll`` + ``os.read`` on their file
  descriptors, replies written through their transports), running each request through
  ``process_command`` so SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE and the ``allow-busy``
  commands work while everything else gets -BUSY.  No second thread ever touches data.  A
  killed script's hook switches to a per-line hook that keeps raising, so ``pcall`` cannot
  swallow the kill.  Limitation: connections opened while a script is busy are accepted
  only after it ends (their requests wait in the kernel backlog).
"""

from __future__ import annotations

import hashlib
import math
import os
import select
import time
from typing import TYPE_CHECKING, Any, Final

import lupa.lua51 as lua51

from snakedis import REDIS_VERSION, REDIS_VERSION_NUM
from snakedis.commands.table import Command, Flag
from snakedis.protocol.errors import CommandError
from snakedis.protocol.resp import (
    NULL_ARRAY,
    BigNumber,
    ErrorReply,
    Raw,
    SetReply,
    Simple,
    Verbatim,
    format_double,
)
from snakedis.server.core import NOTIFY_NEW
from snakedis.server.dispatch import (
    NO_REPLY,
    _internal_error,
    _propagate_effects,
    _record_slow,
    _remember_read_keys,
    call,
)
from snakedis.server.propagation import PROPAGATE_ALL, PROPAGATE_AOF, PROPAGATE_NONE, PROPAGATE_REPL, emit_unit

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

KILLED_MSG: Final = b"ERR Script killed by user with SCRIPT KILL..."
BUSY_EVAL: Final = b"BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION: Final = b"BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
UNKILLABLE: Final = (
    b"UNKILLABLE Sorry the script already executed write commands against the dataset. "
    b"You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
)
NOTBUSY: Final = b"NOTBUSY No scripts in execution right now."

# redis.set_repl's flags are Redis's propagation targets
REPL_NONE: Final = PROPAGATE_NONE
REPL_AOF: Final = PROPAGATE_AOF
REPL_REPLICA: Final = PROPAGATE_REPL
REPL_ALL: Final = PROPAGATE_ALL

# what a command is to a script (ScriptEngine._cmd_cache): may run, writes, or not allowed
_PLAIN: Final = 0
_WRITE: Final = 1
_NOSCRIPT: Final = 2

_BOOTSTRAP_PATH: Final = os.path.join(os.path.dirname(__file__), "bootstrap.lua")

_perf_ns = time.perf_counter_ns
_monotonic = time.monotonic


class RunContext:
    """The script or function currently running (Redis's ``scriptRunCtx``).

    The engine keeps one and refills it for every run (scripts never nest), so a call does
    not pay for building one.
    """

    __slots__ = ("name", "is_eval", "read_only", "start", "wrote", "killed", "busy", "caller", "repl")

    def __init__(self) -> None:
        self.name = b""
        self.is_eval = True
        self.read_only = False
        self.start = 0.0
        self.wrote = False
        self.killed = False
        self.busy = False
        self.caller: Client = None  # type: ignore[assignment]  # set for each run
        self.repl = REPL_ALL


def sha1hex(data: bytes) -> bytes:
    return hashlib.sha1(data).hexdigest().encode()


def _arg_bytes(v: Any) -> bytes | None:
    t = type(v)
    if t is bytes:
        return v  # type: ignore[no-any-return]
    if t is int:
        return b"%d" % v
    if t is float:
        if v.is_integer() and abs(v) < 1e17:
            return b"%d" % int(v)
        return b"%.17g" % v
    return None


def _lua_args(args: tuple[Any, ...]) -> list[bytes] | None:
    """The arguments of redis.call as bytes (numbers as Redis formats them), or None."""
    out = []
    for a in args:
        b = _arg_bytes(a)
        if b is None:
            return None
        out.append(b)
    return out


def _lua_number_to_int(v: float) -> int:
    if math.isnan(v):
        return -(2**63)
    if math.isinf(v):
        return -(2**63)
    i = int(v)
    if i >= 2**63 or i < -(2**63):
        return -(2**63)
    return i


def _sanitize(msg: bytes) -> bytes:
    return msg.strip(b"\r\n").replace(b"\r", b" ").replace(b"\n", b" ")


def _error_from_reply(reply: bytes) -> bytes:
    """Redis's ``luaPushErrorBuff`` on ``-<reply>``: keep the code, default to ERR."""
    sp = reply.find(b" ")
    if sp < 0:
        return b"ERR " + reply.strip(b"\r\n")
    return reply[:sp] + b" " + reply[sp + 1 :].strip(b"\r\n")


def _parse_raw(data: bytes, pos: int = 0) -> tuple[Any, int]:
    """Decode one pre-encoded RESP value (``Raw`` replies) into reply values."""
    end = data.index(b"\r\n", pos)
    kind = data[pos : pos + 1]
    line = data[pos + 1 : end]
    pos = end + 2
    if kind == b"+":
        return Simple(line), pos
    if kind == b"-":
        return ErrorReply(line), pos
    if kind == b":":
        return int(line), pos
    if kind == b"$":
        n = int(line)
        if n < 0:
            return None, pos
        return data[pos : pos + n], pos + n + 2
    if kind in (b"*", b"~", b">"):
        n = int(line)
        if n < 0:
            return NULL_ARRAY, pos
        items = []
        for _ in range(n):
            item, pos = _parse_raw(data, pos)
            items.append(item)
        return (SetReply(items) if kind == b"~" else items), pos
    if kind == b"%":
        n = int(line)
        out = {}
        for _ in range(n):
            k, pos = _parse_raw(data, pos)
            v, pos = _parse_raw(data, pos)
            out[k] = v
        return out, pos
    if kind == b"_":
        return None, pos
    if kind == b"#":
        return line == b"t", pos
    if kind == b",":
        return float(line), pos
    if kind == b"(":
        return BigNumber(line), pos
    if kind == b"=":
        n = int(line)
        return Verbatim(data[pos + 4 : pos + n]), pos + n + 2
    raise ValueError("bad RESP")


class ScriptEngine:
    """The server's Lua runtime, script cache and the currently running script."""

    def __init__(self, server: Server) -> None:
        from snakedis.scripting import libs
        from snakedis.server.connection import Client

        self.server = server
        lua = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True, register_eval=False, register_builtins=False)
        self.lua = lua
        g = lua.globals()
        g.python = None
        self.table = lua.table
        self.table_from = lua.table_from
        py = lua.table()
        py[b"call"] = self._call
        py[b"busy_check"] = self._busy_check
        py[b"log"] = self._log
        py[b"setresp"] = self._setresp
        py[b"set_repl"] = self._set_repl
        py[b"sha1hex"] = self._sha1hex
        py[b"acl_check_cmd"] = self._acl_check_cmd
        py[b"version"] = REDIS_VERSION.encode()
        py[b"version_num"] = REDIS_VERSION_NUM
        libs.install(lua, py)
        with open(_BOOTSTRAP_PATH, "rb") as f:
            code = f.read()
        chunk = g.loadstring(code, b"=snakedis")
        if not isinstance(chunk, type(g)) and isinstance(chunk, tuple):
            raise RuntimeError(chunk[1])
        api = chunk(py)
        self._compile = api[b"compile"]
        self._make_runner = api[b"make_runner"]
        self._take_error = api[b"take_error"]
        # runners by key count, made on first use (past the end: a runner taking the count)
        max_keys: int = api[b"max_runner_keys"]
        self._eval_runners: list[Any] = [None] * (max_keys + 1)
        self._fcall_runners: list[Any] = [None] * (max_keys + 1)
        self._eval_any = self._make_runner(b"eval", max_keys + 1)
        self._fcall_any = self._make_runner(b"fcall", max_keys + 1)
        # command name bytes -> (command, arity, kind) for commands without subcommands
        self._cmd_cache: dict[bytes, tuple[Command, int, int]] = {}
        self._load_library = api[b"load_library"]
        self._arm_hook = api[b"arm_hook"]
        self.G = api[b"G"]
        self.scripts: dict[bytes, Any] = {}  # sha -> (lua function, flags, body)
        self.running: RunContext | None = None
        self._ctx = RunContext()
        # the script's own propagation unit (see ``run``): its target list and the effects
        self._unit_targets: list[Any] = [self._collect]
        self._unit_ops: list[tuple[int, list[bytes], int]] = []  # (db, argv, PROPAGATE_* targets)
        self.resp = 2
        fake = Client(server)
        fake.authenticated = True
        fake.name = b""
        self.fake = fake
        self._neg_zero = lua.eval("function(t) return 1 / t.double < 0 end")

    # ------------------------------------------------------------------ compile / run

    def compile(self, body: bytes, chunkname: bytes = b"@user_script", env: Any = None) -> Any:
        """Compile ``body``; returns the Lua function or raises ValueError with Lua's message."""
        res = self._compile(body, chunkname, env)
        if type(res) is tuple:
            raise ValueError(res[1])
        return res

    def run(
        self,
        client: Client,
        fn: Any,
        name: bytes,
        argv: list[bytes],
        nkeys: int,
        is_eval: bool,
        read_only: bool,
    ) -> Any:
        """Run a compiled script (or a function) for ``client``; returns the reply value.

        ``argv`` is the whole EVAL*/FCALL* request: the keys start at index 3, the arguments
        follow them.  They reach Lua as the varargs of the runner for ``nkeys`` keys.
        """
        server = self.server
        fake = self.fake
        fake.db = client.db
        if fake.protover != 2:  # redis.setresp(3) in the last script (resp mirrors protover)
            fake.set_protover(2)
            self.resp = 2
        ctx = self._ctx
        ctx.name = name
        ctx.is_eval = is_eval
        ctx.read_only = read_only
        ctx.start = _monotonic()
        ctx.wrote = False
        ctx.caller = client
        ctx.repl = REPL_ALL  # (killed and busy are reset when the run ends)
        self.running = ctx
        server.in_script = True
        server.script_caller = client
        # the script's effects reach AOF/replicas as one unit (Redis wraps several in
        # MULTI/EXEC); inside EXEC the transaction's unit collects them instead
        saved_targets = server.propagation_targets
        if saved_targets:
            if server.extensions.get("propagation_unit_open"):
                saved_targets = None
            else:
                server.propagation_targets = self._unit_targets
                server.extensions["propagation_unit_open"] = True
        else:
            saved_targets = None
        try:
            runners = self._eval_runners if is_eval else self._fcall_runners
            try:
                if nkeys < len(runners):
                    runner = runners[nkeys] or self._new_runner(runners, is_eval, nkeys)
                    res = runner(fn, argv[3]) if len(argv) == 4 else runner(fn, *argv[3:])
                else:
                    runner = self._eval_any if is_eval else self._fcall_any
                    res = runner(fn, nkeys, *argv[3:])
            except lua51.LuaError as e:
                err = self._take_error()  # None if the handler itself failed
                return self._error_reply(err if err is not None else str(e), name)
            t = type(res)
            if t is int or t is bytes:
                return res
            if t is tuple:  # several return values: the first is the reply
                res = res[0]
            return self.from_lua(res, client)
        finally:
            server.in_script = False
            server.script_caller = None
            self.running = None
            ctx.caller = None  # type: ignore[assignment]  # the client may go away
            if saved_targets is not None:
                server.extensions["propagation_unit_open"] = False
                server.propagation_targets = saved_targets
                if self._unit_ops or len(self._unit_targets) != 1:
                    self._end_unit()
            if ctx.busy:
                ctx.busy = False
                self._end_busy()
            if ctx.killed:
                ctx.killed = False
                self._arm_hook()

    def _collect(self, db_id: int, argv: list[bytes]) -> None:
        """The propagation target while a script runs: buffers the script's effects, each
        bound to the targets ``redis.set_repl`` chose when it ran (``server.propagate_mask``;
        REPL_NONE: not kept, as Redis's call() skips alsoPropagate)."""
        mask = self.server.propagate_mask
        if mask:
            self._unit_ops.append((db_id, argv, mask))

    def _end_unit(self) -> None:
        """Send the real propagation targets (restored by ``run``) the script's effects."""
        if len(self._unit_targets) != 1:  # a target was added to the list meanwhile: not kept
            self._unit_targets = [self._collect]
        ops = self._unit_ops
        if not ops:
            return
        self._unit_ops = []
        emit_unit(self.server, ops)

    def _new_runner(self, runners: list[Any], is_eval: bool, nkeys: int) -> Any:
        """Make and keep the Lua runner for ``nkeys`` keys."""
        runner = runners[nkeys] = self._make_runner(b"eval" if is_eval else b"fcall", nkeys)
        return runner

    def _error_reply(self, err: Any, name: bytes) -> ErrorReply:
        if lua51.lua_type(err) != "table":
            return ErrorReply(b"ERR Error running script %s, %s" % (name, _sanitize(str(err).encode())[:100]))
        msg = err[b"err"]
        if type(msg) is not bytes:
            msg = b"ERR unknown error" if msg is None else (_arg_bytes(msg) or b"")
        source = err[b"source"]
        line = err[b"line"]
        text = msg
        if line and source:
            text = b"%s script: %s, on %s:%d." % (msg, name, source, line)
        return ErrorReply(_sanitize(text))

    # ------------------------------------------------------------------ Lua -> reply

    def from_lua(self, v: Any, client: Client) -> Any:
        t = type(v)
        if t is bytes or t is int:
            return v
        if t is float:
            return _lua_number_to_int(v)
        if v is None:
            return None
        if t is bool:
            if self.resp == 2:
                return 1 if v else None
            return v
        if lua51.lua_type(v) != "table":
            return None
        err = v[b"err"]
        if type(err) is bytes:
            return ErrorReply(_sanitize(err))
        ok = v[b"ok"]
        if type(ok) is bytes:
            return Simple(ok.replace(b"\r", b" ").replace(b"\n", b" "))
        d = v[b"double"]
        if d is not None and type(d) in (int, float):
            if d == 0 and self._neg_zero(v):
                return -0.0  # lupa hands -0.0 over as the integer 0
            return float(d)
        big = v[b"big_number"]
        if type(big) is bytes:
            return BigNumber(big.replace(b"\r", b" ").replace(b"\n", b" "))
        m = v[b"map"]
        if m is not None and lua51.lua_type(m) == "table":
            out: dict[Any, Any] = {}
            for k, val in m.items():
                key = self.from_lua(k, client)
                if isinstance(key, list):
                    key = tuple(key)
                out[key] = self.from_lua(val, client)
            return out
        s = v[b"set"]
        if s is not None and lua51.lua_type(s) == "table":
            return SetReply([self.from_lua(k, client) for k in s.keys()])
        vs = v[b"verbatim_string"]
        if vs is not None and lua51.lua_type(vs) == "table":
            string = vs[b"string"]
            if type(string) is bytes:
                return Verbatim(string)
        out_list = []
        i = 1
        while True:
            item = v[i]
            if item is None:
                break
            out_list.append(self.from_lua(item, client))
            i += 1
        return out_list

    # ------------------------------------------------------------------ reply -> Lua

    def to_lua(self, value: Any) -> Any:
        t = type(value)
        if t is bytes or t is int:
            return value
        resp3 = self.resp == 3
        if t is bytearray or t is Verbatim and not resp3:
            return bytes(value)
        if value is None or value is NULL_ARRAY:
            return None if resp3 else False
        if t is Simple:
            tab = self.table()
            tab[b"ok"] = bytes(value)
            return tab
        if t is ErrorReply:
            tab = self.table()
            tab[b"err"] = _error_from_reply(bytes(value))
            return tab
        if t is bool:
            if resp3:
                return value
            return 1 if value else 0
        if t is float:
            if resp3:
                tab = self.table()
                tab[b"double"] = value
                return tab
            return format_double(value)
        if t is Raw:
            parsed, _ = _parse_raw(bytes(value))
            return self.to_lua(parsed)
        if t is str:
            return value.encode()
        if t is dict:
            if resp3:
                inner = self.table()
                for k, val in value.items():
                    inner[self.to_lua(k)] = self.to_lua(val)
                tab = self.table()
                tab[b"map"] = inner
                return tab
            tab = self.table()
            i = 1
            for k, val in value.items():
                tab[i] = self.to_lua(k)
                tab[i + 1] = self.to_lua(val)
                i += 2
            return tab
        if t is SetReply and resp3:
            inner = self.table()
            for item in value:
                inner[self.to_lua(item)] = True
            tab = self.table()
            tab[b"set"] = inner
            return tab
        if t is BigNumber:
            if resp3:
                tab = self.table()
                tab[b"big_number"] = bytes(value)
                return tab
            return bytes(value)
        if t is Verbatim:
            inner = self.table()
            inner[b"format"] = b"txt"
            inner[b"string"] = bytes(value)
            tab = self.table()
            tab[b"verbatim_string"] = inner
            return tab
        if isinstance(value, (list, tuple)):
            tab = self.table()
            for i, item in enumerate(value, 1):
                tab[i] = self.to_lua(item)
            return tab
        if isinstance(value, bytes):
            return bytes(value)
        return None

    # ------------------------------------------------------------------ the redis API

    def _call(self, *args: Any) -> Any:
        """redis.call / redis.pcall: the reply converted for Lua, or ``(None, message)``.

        The common case (a plain command seen before, string arguments, no MONITOR, keyspace
        NEW events, ACL rules or ``set_repl``, a write that is allowed) is handled inline,
        doing exactly what ``dispatch.call`` does while ``server.in_script`` is set (the clock
        stays frozen, no big-reply encoding); anything else goes through ``_call_slow`` /
        ``_run_command``, which check in Redis's order and use ``dispatch.call`` itself.
        """
        try:
            cmd, arity, kind = self._cmd_cache[args[0]]  # (a cached name is bytes)
        except (KeyError, IndexError, TypeError):
            return self._call_slow(args)
        ctx = self.running
        if ctx is None:
            return self._call_slow(args)
        n = len(args)
        if n == 2:
            if type(args[1]) is not bytes:
                return self._call_slow(args)
        else:
            for a in args:
                if type(a) is not bytes:
                    return self._call_slow(args)
        if n != arity if arity > 0 else n < -arity:
            return None, b"ERR Wrong number of args calling Redis command from script"
        argv = list(args)
        server = self.server
        if (
            ctx.repl != 3  # REPL_ALL
            or server.monitors
            or server.keyspace_events & NOTIFY_NEW
            or "acl_script_check" in server.extensions
            or (kind and (kind == _NOSCRIPT or ctx.read_only or server.is_replica))
        ):
            return self._run_command(ctx, cmd, argv, kind)
        if kind:
            ctx.wrote = True
        # ---- dispatch.call, inlined for the states checked above
        fake = self.fake
        try:
            dirty_before = server.dirty
            start = _perf_ns()
            try:
                reply = cmd.handler(fake, argv)  # type: ignore[misc]
            except CommandError as e:
                reply = ErrorReply(e.message)
            except Exception as e:  # a bug must cost one reply, never the script or the server
                reply = _internal_error(server, cmd, e)
            duration_ns = _perf_ns() - start
            if ctx.caller.tracking is not None:  # ctx.caller is server.script_caller
                _remember_read_keys(fake, cmd, argv)
            stats = cmd.stats
            stats.calls += 1
            stats.duration_ns += duration_ns
            t = type(reply)
            if t is ErrorReply:
                stats.failed_calls += 1
                server.stats.count_error(reply)
            server.stats.total_commands_processed += 1
            if server.latency_tracking:
                stats.buckets[duration_ns.bit_length()] += 1
            if duration_ns >= server.slowlog_threshold_ns or duration_ns >= server.latency_threshold_ns:
                _record_slow(fake, cmd, argv, duration_ns)
            fake.last_cmd = cmd.error_name
            if server.dirty != dirty_before and cmd.propagates:
                targets = server.propagation_targets
                if targets is self._unit_targets and fake.propagate_override is None:
                    self._unit_ops.append((fake.db.id, argv, REPL_ALL))  # what server.propagate would do
                elif targets or fake.propagate_override is not None:
                    _propagate_effects(fake, server, argv)
            elif fake.propagate_override is not None:
                fake.propagate_override = None
        except Exception as e:  # noqa: BLE001 - a bug must not unwind through Lua
            return self._internal_error(cmd, e)
        if t is int or t is bytes:
            return reply
        return self._reply_to_lua(reply)

    def _call_slow(self, args: tuple[Any, ...]) -> Any:
        """``_call`` for the first use of a command, subcommands, numbers and bad arguments."""
        ctx = self.running
        if ctx is None:
            return None, b"ERR redis.call/pcall can only be called inside a script invocation"
        argv = _lua_args(args)
        if argv is None:
            return None, b"ERR Lua redis lib command arguments must be strings or integers"
        cached = self._cmd_cache.get(argv[0]) if argv else None
        if cached is None:
            found = self._lookup(argv)
            if isinstance(found, bytes):
                return None, found
            cached = found
        cmd, arity, kind = cached
        n = len(argv)
        if n != arity if arity > 0 else n < -arity:
            return None, b"ERR Wrong number of args calling Redis command from script"
        return self._run_command(ctx, cmd, argv, kind)

    def _run_command(self, ctx: RunContext, cmd: Command, argv: list[bytes], kind: int) -> Any:
        """Checks and run of a script's command (Redis's ``scriptCall``); the reply for Lua."""
        if kind == _NOSCRIPT:
            return None, b"ERR This Redis command is not allowed from script"
        server = self.server
        acl_check = server.extensions.get("acl_script_check")
        if acl_check is not None:
            denied = acl_check(ctx.caller, cmd, argv)
            if denied is not None:
                return None, denied
        if kind:  # _WRITE
            if ctx.read_only:
                return None, b"ERR Write commands are not allowed from read-only scripts."
            if server.is_replica and server.config["replica-read-only"] and not ctx.caller.is_master:
                return None, b"READONLY You can't write against a read only replica."
            ctx.wrote = True
        try:
            if ctx.repl != REPL_ALL and server.propagation_targets:
                # the unit collecting the write (the script's, or the transaction's inside EXEC)
                # keeps it with the targets it is bound to
                server.propagate_mask = ctx.repl
                try:
                    reply = call(self.fake, cmd, argv)
                finally:
                    server.propagate_mask = REPL_ALL
            else:
                reply = call(self.fake, cmd, argv)
        except Exception as e:  # noqa: BLE001 - a handler bug must not unwind through Lua
            return self._internal_error(cmd, e)
        t = type(reply)
        if t is int or t is bytes:
            return reply
        return self._reply_to_lua(reply)

    def _internal_error(self, cmd: Command, exc: Exception) -> tuple[None, bytes]:
        self.server.log(f"Error running {cmd.name} from a script: {exc!r}", "warning")
        return None, b"ERR internal error running command from script"

    def _reply_to_lua(self, reply: Any) -> Any:
        """A command's reply for redis.call: errors as ``(None, message)``."""
        if reply is NO_REPLY:
            return None
        t = type(reply)
        if t is ErrorReply:
            return None, _error_from_reply(bytes(reply))
        if t is Raw and reply[:1] == b"-":
            return None, _error_from_reply(bytes(reply[1:-2]))
        return self.to_lua(reply)

    def _lookup(self, argv: list[bytes]) -> tuple[Command, int, int] | bytes:
        """The command a script names (a subcommand too), or the error message for Lua."""
        if not argv:
            return b"ERR Please specify at least one argument for this redis lib call"
        cmd: Command | None = self.server.table.lookup(argv[0])
        if cmd is not None and cmd.subcommands:
            cmd = cmd.subcommands.get(argv[1].lower()) if len(argv) > 1 else None
            if cmd is None and len(argv) == 1:
                return b"ERR Wrong number of args calling Redis command from script"
        if cmd is None:
            return b"ERR Unknown Redis command called from script"
        kind = _NOSCRIPT if cmd.flags & Flag.NOSCRIPT else _WRITE if cmd.is_write else _PLAIN
        entry = (cmd, cmd.arity, kind)
        if cmd.parent is None and len(self._cmd_cache) < 1024:
            self._cmd_cache[argv[0]] = entry
        return entry

    def _sha1hex(self, data: Any) -> bytes:
        b = _arg_bytes(data)
        return sha1hex(b if b is not None else b"")

    def _log(self, *args: Any) -> bytes | None:
        if len(args) < 2:
            return b"ERR redis.log() requires two arguments or more."
        level = args[0]
        if type(level) not in (int, float):
            return b"ERR First argument must be a number (log level)."
        level = int(level)
        if level < 0 or level > 3:
            return b"ERR Invalid debug level."
        parts = []
        for a in args[1:]:
            b = _arg_bytes(a)
            parts.append(b if b is not None else b"")
        names = ("debug", "verbose", "notice", "warning")
        self.server.log(b" ".join(parts).decode("utf-8", "replace"), names[level])
        return None

    def _setresp(self, *args: Any) -> bytes | None:
        if len(args) != 1:
            return b"ERR redis.setresp() requires one argument."
        v = args[0]
        if type(v) not in (int, float) or v not in (2, 3):
            return b"ERR RESP version must be 2 or 3."
        self.resp = int(v)
        self.fake.set_protover(self.resp)
        return None

    def _set_repl(self, *args: Any) -> bytes | None:
        ctx = self.running
        if ctx is None:
            return b"ERR redis.set_repl can only be called inside a script invocation"
        if len(args) != 1:
            return b"ERR redis.set_repl() requires one argument."
        v = args[0]
        if type(v) not in (int, float) or int(v) != v or int(v) & ~REPL_ALL:
            return b"ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
        ctx.repl = int(v)
        return None

    def _acl_check_cmd(self, *args: Any) -> tuple[bool, Any]:
        if not args:
            return False, b"ERR Please specify at least one argument for this redis lib call"
        argv = [_arg_bytes(a) or b"" for a in args]
        cmd = self.server.table.lookup(argv[0])
        if cmd is not None and cmd.subcommands and len(argv) > 1:
            cmd = cmd.subcommands.get(argv[1].lower())
        if cmd is None:
            return False, b"ERR Invalid command passed to redis.acl_check_cmd()"
        acl = self.server.extensions.get("acl")
        checker = getattr(acl, "check_command", None) if acl is not None else None
        if checker is not None and self.running is not None:
            try:
                return True, bool(checker(self.running.caller, cmd, argv) is None)
            except Exception:  # noqa: BLE001 - ACL module's contract unknown; allow
                return True, True
        return True, True

    # ------------------------------------------------------------------ busy scripts

    def _busy_check(self) -> bytes | None:
        ctx = self.running
        if ctx is None:
            return None
        if ctx.killed:
            return KILLED_MSG
        server = self.server
        threshold = server.config["busy-reply-threshold"]
        if threshold <= 0 or (time.monotonic() - ctx.start) * 1000 < threshold:
            return None
        if not ctx.busy:
            ctx.busy = True
            server.extensions["command_gate"] = self._busy_gate
            server.extensions["script_busy"] = True
            server.log(
                f"Slow script detected: still in execution after {int((time.monotonic() - ctx.start) * 1000)} milliseconds. "
                "You can try killing the script using the SCRIPT KILL command.",
                "warning",
            )
        self._process_events(ctx)
        if ctx.killed:
            server.log("Lua script killed by user with SCRIPT KILL.", "notice")
            return KILLED_MSG
        fut = server.shutdown_requested
        if fut is not None and fut.done():
            ctx.killed = True
            return KILLED_MSG
        return None

    def _end_busy(self) -> None:
        ext = self.server.extensions
        if ext.get("command_gate") == self._busy_gate:
            del ext["command_gate"]
        ext.pop("script_busy", None)

    def _busy_gate(self, client: Client, cmd: Command, argv: list[bytes]) -> bytes | None:
        ctx = self.running
        if ctx is None or not ctx.busy:
            return None
        busy = BUSY_EVAL if ctx.is_eval else BUSY_FUNCTION
        if cmd.flags & Flag.ALLOW_BUSY:
            if cmd.name == "shutdown" and not any(a.lower() == b"nosave" for a in argv[1:]):
                return busy
            return None
        return busy

    def _process_events(self, ctx: RunContext) -> None:
        """Serve the other clients while a script is busy (Redis's processEventsWhileBlocked)."""
        server = self.server
        if server.pending_writes:
            # replies produced before the script started are still waiting for before_sleep,
            # and so are the AOF writes they acknowledge: those go first
            aof = server.extensions.get("aof")
            if aof is not None and aof.enabled:
                aof.before_sleep()
            pending = server.pending_writes
            server.pending_writes = set()
            for c in pending:
                c.flush()
        fds: dict[int, Client] = {}
        for c in list(server.clients.values()):
            if c is ctx.caller or c.closed or c.closing or c.transport is None:
                continue
            sock = c.transport.get_extra_info("socket")
            if sock is None:
                continue
            try:
                fds[sock.fileno()] = c
            except (OSError, ValueError):
                continue
        if not fds:
            return
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        try:
            ready = poller.poll(0)
        except OSError:
            return
        for fd, _ev in ready:
            c = fds[fd]
            try:
                data = os.read(fd, 65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                continue
            if not data:
                continue
            c.data_received(data)
            if c.out:
                c.flush()

    def kill(self, is_eval: bool) -> Any:
        """SCRIPT KILL / FUNCTION KILL."""
        from snakedis.protocol.resp import OK

        ctx = self.running
        if ctx is None:
            return ErrorReply(NOTBUSY)
        if ctx.wrote:
            return ErrorReply(UNKILLABLE)
        if is_eval and not ctx.is_eval:
            return ErrorReply(BUSY_FUNCTION)
        if not is_eval and ctx.is_eval:
            return ErrorReply(BUSY_EVAL)
        ctx.killed = True
        return OK

    # ------------------------------------------------------------------ functions

    def load_library(self, code: bytes, register: Any) -> tuple[bool, Any]:
        res = self._load_library(code, register)
        if type(res) is tuple:
            return bool(res[0]), res[1] if len(res) > 1 else None
        return bool(res), None


def get_engine(server: Server) -> ScriptEngine:
    engine = server.extensions.get("scripting")
    if engine is None:
        engine = server.extensions["scripting"] = ScriptEngine(server)
    return engine  # type: ignore[no-any-return]
