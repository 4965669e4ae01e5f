"""Append-only file, Redis 7's multi-part layout, with Redis's durability guarantees.

Layout (``dir``/``appenddirname``): a manifest ``<appendfilename>.manifest`` naming one base
file (``<name>.<seq>.base.rdb`` — an RDB snapshot, with ``aof-use-rdb-preamble yes`` — or
``.base.aof``) and the incremental files (``<name>.<seq>.incr.aof``) holding every write since,
as RESP commands with ``SELECT`` when the database changes.  Real Redis 7.0 reads the same
directory.

Invariants:

* Every write a command propagates (``Server.propagate``) is appended to ``buf`` in execution
  order; MULTI/EXEC arrive as a unit.  An entry is encoded bytes, or — from the dispatcher's
  fast path, taken while the AOF is the only propagation target (``Server.aof_fast``) and the
  command's db is ``selected_db`` — the command's argv itself, encoded at the write.  When every
  frame of a read was logged that way, the client replaces those entries with the bytes it read
  (they are the frames' canonical encoding), so a pipeline of writes is logged without
  re-encoding.  This relies on handlers never changing ``argv`` in place (a rewrite goes
  through ``propagate_override``).
* ``before_sleep`` writes ``buf`` to the incremental file *before* any reply of that loop turn is
  flushed; under ``appendfsync always`` it also fsyncs first, so an acknowledged write survives
  ``kill -9``.  ``everysec`` fsyncs from a background thread at most once a second; ``no``
  leaves it to the kernel.
* BGREWRITEAOF forks: the child writes a new base from its copy-on-write snapshot while the
  parent starts a new incremental file at once; when the child succeeds the manifest is
  replaced atomically (temp file, fsync, rename, fsync dir) by {new base, new incr}.
* Loading replays the base then each incremental file; a command torn at the very end is
  dropped when ``aof-load-truncated`` is on, anything else malformed refuses to start.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from snakedis.persistence import rdb
from snakedis.persistence.rdbformat import RdbFormatError
from snakedis.protocol.resp import encode_argv, encode_command
from snakedis.server.propagation import PROPAGATE_AOF

if TYPE_CHECKING:
    from snakedis.server.core import Server

BASE_RDB: Final = "b"
INCR: Final = "i"
HISTORY: Final = "h"


class AofError(Exception):
    """The AOF cannot be loaded (the server refuses to start, as Redis does)."""


@dataclass
class AofFile:
    name: str
    seq: int
    kind: str  # "b" base, "i" incremental, "h" history


def parse_manifest(text: str) -> list[AofFile]:
    files: list[AofFile] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        fields = dict(zip(words[0::2], words[1::2], strict=False))
        if "file" not in fields or "seq" not in fields or "type" not in fields:
            raise AofError(f"Invalid AOF manifest file format at line {lineno}")
        files.append(AofFile(fields["file"], int(fields["seq"]), fields["type"]))
    return files


def format_manifest(files: list[AofFile]) -> str:
    return "".join(f"file {f.name} seq {f.seq} type {f.kind}\n" for f in files)


class Aof:
    """The AOF of one server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.enabled = False
        self.buf: list[Any] = []  # encoded bytes, or an argv to encode (see the module docstring)
        self.fd: int = -1
        self.incr_seq = 0
        self.base: AofFile | None = None
        self.incrs: list[AofFile] = []
        self.selected_db = -1
        self.last_fsync = 0.0
        self.fsync_pending = False
        self.fsync_lock = threading.Lock()
        self.rewrite_child = 0
        self.rewrite_started = 0.0
        self.rewrite_scheduled = False
        self.rewrites = 0
        self.last_rewrite_ok = True
        self.last_write_ok = True
        self.last_rewrite_time_sec = -1
        self.base_size_at_rewrite = 0
        self.current_size = 0
        self.delayed_fsync = 0
        self.last_timestamp = 0
        self.timestamps = bool(server.config["aof-timestamp-enabled"])
        server.config.watch("aof-timestamp-enabled", self._on_timestamps)

    def _on_timestamps(self, value: Any) -> None:
        self.timestamps = bool(value)
        self.server.refresh_aof_fast()  # the fast path writes no #TS annotations

    # ------------------------------------------------------------------ paths

    @property
    def dir(self) -> str:
        cfg = self.server.config
        return os.path.join(cfg["dir"] or ".", cfg["appenddirname"])

    @property
    def name(self) -> str:
        return str(self.server.config["appendfilename"])

    def manifest_path(self) -> str:
        return os.path.join(self.dir, self.name + ".manifest")

    # ------------------------------------------------------------------ propagation

    def feed(self, db_id: int, argv: list[bytes]) -> None:
        """Server.propagate target: queue the command for the next before_sleep write."""
        if not self.enabled or self.server.loading:
            return
        buf = self.buf
        if self.timestamps:
            now = int(time.time())
            if now != self.last_timestamp:
                self.last_timestamp = now
                buf.append(b"#TS:%d\r\n" % now)
        if db_id != self.selected_db:
            buf.append(encode_command(b"SELECT", b"%d" % db_id))
            self.selected_db = db_id
        buf.append(encode_argv(argv))

    def before_sleep(self) -> None:
        """Write (and under ``always``, fsync) before any reply of this turn goes out."""
        buf = self.buf
        if not buf or self.fd < 0:
            return
        data = b"".join([e if type(e) is bytes else encode_argv(e) for e in buf])
        buf.clear()  # the same list: Server.aof_fast's users append to it
        try:
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
            self.last_write_ok = True
        except OSError as e:
            self.last_write_ok = False
            self.server.log(f"Error writing to the AOF file: {e}", "warning")
            return
        self.current_size += len(data)
        policy = self.server.config["appendfsync"]
        if policy == "always":
            os.fsync(self.fd)
            self.last_fsync = time.time()
        elif policy == "everysec":
            self.fsync_pending = True

    def cron(self) -> None:
        """everysec fsync in a thread; reap rewrite children; automatic rewrites."""
        self.before_sleep()  # writes propagated by the cron itself (expired keys)
        if self.fsync_pending and self.fd >= 0 and time.time() - self.last_fsync >= 1.0:
            self.fsync_pending = False
            self.last_fsync = time.time()
            fd = self.fd
            if self.fsync_lock.acquire(blocking=False):
                threading.Thread(target=self._fsync_background, args=(fd,), daemon=True).start()
            else:
                self.delayed_fsync += 1
        self._reap_rewrite()
        if not self.enabled or self.rewrite_child:
            return
        snaps = self.server.extensions.get("snapshots")
        if self.rewrite_scheduled and not (snaps and snaps.child_pid):
            self.rewrite_scheduled = False
            self.start_rewrite()
            return
        cfg = self.server.config
        perc = cfg["auto-aof-rewrite-percentage"]
        if perc and self.current_size > cfg["auto-aof-rewrite-min-size"]:
            base = self.base_size_at_rewrite or 1
            growth = (self.current_size - base) * 100 // base
            if growth >= perc and not (snaps and snaps.child_pid):
                self.server.log(f"Starting automatic rewriting of AOF on {growth}% growth")
                self.start_rewrite()

    def _fsync_background(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            self.fsync_lock.release()

    # ------------------------------------------------------------------ files

    def _open_incr(self, seq: int) -> None:
        name = f"{self.name}.{seq}.incr.aof"
        fd = os.open(os.path.join(self.dir, name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if self.fd >= 0:
            self.before_sleep()
            os.fsync(self.fd)
            os.close(self.fd)
        self.fd = fd
        self.incr_seq = seq
        self.incrs.append(AofFile(name, seq, INCR))
        self.selected_db = -1

    def _write_manifest(self) -> None:
        files: list[AofFile] = []
        if self.base is not None:
            files.append(self.base)
        files.extend(self.incrs)
        path = self.manifest_path()
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(format_manifest(files))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        rdb.fsync_dir(self.dir)

    def _write_base(self, seq: int) -> AofFile:
        """Synchronously write a base snapshot (start-up, CONFIG SET appendonly yes)."""
        name = f"{self.name}.{seq}.base.rdb"
        snaps = self.server.extensions.get("snapshots")
        blobs = snaps.functions_blobs() if snaps is not None else []
        size = rdb.save_to_path(self.server, os.path.join(self.dir, name), blobs)
        self.base_size_at_rewrite = size
        self.current_size = size
        return AofFile(name, seq, BASE_RDB)

    def create_fresh(self) -> None:
        """No AOF yet: a base from the current data plus an empty incremental file."""
        os.makedirs(self.dir, exist_ok=True)
        self.incrs = []
        self.base = self._write_base(1)
        self._open_incr(1)
        self._write_manifest()

    def enable(self) -> None:
        """Turn the AOF on now (start-up with ``appendonly yes`` or CONFIG SET)."""
        if self.enabled:
            return
        self.enabled = True
        self.server.before_sleep_hooks.insert(0, self.before_sleep)
        self.server.add_propagation_target(self.feed, PROPAGATE_AOF)
        if self.fd < 0:
            if os.path.exists(self.manifest_path()):
                self._resume_existing()
            else:
                self.create_fresh()

    def disable(self) -> None:
        if not self.enabled:
            return
        self.before_sleep()
        self.enabled = False
        if self.before_sleep in self.server.before_sleep_hooks:
            self.server.before_sleep_hooks.remove(self.before_sleep)
        self.server.remove_propagation_target(self.feed)
        if self.fd >= 0:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = -1
        self.kill_rewrite()

    def _resume_existing(self) -> None:
        files = parse_manifest(open(self.manifest_path()).read())
        self.base = next((f for f in files if f.kind == BASE_RDB or f.kind == "b"), None)
        self.incrs = [f for f in files if f.kind == INCR]
        last = max((f.seq for f in self.incrs), default=0)
        if self.incrs:
            last_file = self.incrs.pop()
            fd = os.open(os.path.join(self.dir, last_file.name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self.fd = fd
            self.incr_seq = last
            self.incrs.append(last_file)
        else:
            self._open_incr(last + 1)
            self._write_manifest()
        self.current_size = sum(
            os.path.getsize(os.path.join(self.dir, f.name))
            for f in [*([self.base] if self.base else []), *self.incrs]
            if os.path.exists(os.path.join(self.dir, f.name))
        )
        if not self.base_size_at_rewrite:
            self.base_size_at_rewrite = self.current_size

    # ------------------------------------------------------------------ rewrite

    def start_rewrite(self) -> bool:
        """BGREWRITEAOF: fork a child writing the new base; new writes go to a new incr file."""
        if self.rewrite_child:
            return False
        server = self.server
        if not self.enabled:
            os.makedirs(self.dir, exist_ok=True)
        new_seq = (self.base.seq if self.base else 0) + 1
        base_name = f"{self.name}.{new_seq}.base.rdb"
        path = os.path.join(self.dir, base_name)
        snaps = server.extensions.get("snapshots")
        blobs = snaps.functions_blobs() if snaps is not None else []
        if self.enabled:
            self.before_sleep()
            self._open_incr(self.incr_seq + 1)
            self._write_manifest()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                rdb.save_to_path(server, path, blobs)
                code = 0
            finally:
                os._exit(code)
        self.rewrite_child = pid
        self.rewrite_started = time.time()
        self._rewrite_target = (AofFile(base_name, new_seq, BASE_RDB), self.incr_seq)
        server.log(f"Background append only file rewriting started by pid {pid}")
        return True

    def _reap_rewrite(self) -> None:
        if not self.rewrite_child:
            return
        try:
            pid, status = os.waitpid(self.rewrite_child, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.rewrite_child, 1 << 8
        if pid == 0:
            return
        self.rewrite_child = 0
        self.last_rewrite_time_sec = int(time.time() - self.rewrite_started)
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        self.last_rewrite_ok = ok
        if not ok:
            self.server.log("Background AOF rewrite terminated with error", "warning")
            return
        new_base, first_kept = self._rewrite_target
        old = [self.base] if self.base else []
        old += [f for f in self.incrs if f.seq < first_kept]
        self.base = new_base
        self.incrs = [f for f in self.incrs if f.seq >= first_kept]
        if self.enabled:
            self._write_manifest()
        else:
            self.incrs = []
        for f in old:
            try:
                os.unlink(os.path.join(self.dir, f.name))
            except OSError:
                pass
        size = os.path.getsize(os.path.join(self.dir, new_base.name))
        self.base_size_at_rewrite = size
        self.current_size = size + sum(
            os.path.getsize(os.path.join(self.dir, f.name)) for f in self.incrs if os.path.exists(os.path.join(self.dir, f.name))
        )
        self.rewrites += 1
        self.server.log("Background AOF rewrite finished successfully")

    def kill_rewrite(self) -> None:
        if self.rewrite_child:
            try:
                os.kill(self.rewrite_child, 9)
                os.waitpid(self.rewrite_child, 0)
            except OSError:
                pass
            self.rewrite_child = 0

    def shutdown(self) -> None:
        if self.enabled:
            self.before_sleep()
            if self.fd >= 0:
                os.fsync(self.fd)
        self.kill_rewrite()

    # ------------------------------------------------------------------ loading

    def load(self) -> bool:
        """Replay the AOF directory into the (empty) keyspace; False when there is none."""
        path = self.manifest_path()
        if not os.path.exists(path):
            return False
        files = parse_manifest(open(path).read())
        server = self.server
        server.loading = True
        server.aof_fast = None  # replayed commands are not logged again (feed checks loading)
        start = time.time()
        gc_was_enabled = gc.isenabled()
        gc.disable()  # as for RDB loading: no collections while the keyspace is rebuilt
        try:
            incr = [f for f in files if f.kind == INCR]
            for f in files:
                full = os.path.join(self.dir, f.name)
                if f.kind == HISTORY:
                    continue
                if not os.path.exists(full):
                    raise AofError(f"The AOF file {f.name} doesn't exist")
                data = open(full, "rb").read()
                if f.kind == BASE_RDB and data[:5] == b"REDIS":
                    try:
                        rdb.load_rdb(data, server, server.extensions.get("functions_load_rdb"))
                    except RdbFormatError as e:
                        raise AofError(f"Bad file format reading the append only file {f.name}: {e}") from None
                else:
                    is_last = bool(incr) and f is incr[-1]
                    self.replay(data, f.name, is_last)
        finally:
            server.loading = False
            server.refresh_aof_fast()
            if gc_was_enabled:
                gc.enable()
            gc.freeze()
        server.log(f"DB loaded from append only file: {time.time() - start:.3f} seconds")
        return True

    def replay(self, data: bytes, name: str, is_last: bool) -> None:
        """Execute the commands of one AOF file (RESP, optionally an RDB preamble)."""
        from snakedis.server.connection import Client
        from snakedis.server.dispatch import call, lookup_command

        server = self.server
        pos = 0
        if data[:5] == b"REDIS":
            raise AofError(f"Unexpected RDB preamble in {name}")
        fake = Client(server)
        fake.is_master = True
        multi: list[list[bytes]] | None = None
        n = len(data)
        while pos < n:
            if data[pos] == 35:  # '#' annotation line
                nl = data.find(b"\n", pos)
                if nl < 0:
                    break
                pos = nl + 1
                continue
            parsed = _parse_aof_command(data, pos)
            if parsed is _MALFORMED:
                raise AofError(
                    f"Bad file format reading the append only file {name}: make a backup of your AOF file, "
                    "then use ./redis-check-aof --fix <filename.manifest>"
                )
            if parsed is None:
                if is_last and server.config["aof-load-truncated"]:
                    server.log(
                        f"!!! Warning: short read while loading the AOF file {name}!!! "
                        f"AOF loaded anyway because aof-load-truncated is enabled",
                        "warning",
                    )
                    break
                raise AofError(
                    f"Unexpected end of file reading the append only file {name}. You can: "
                    "1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. "
                    "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
                )
            argv, pos = parsed  # type: ignore[misc]
            name_l = argv[0].lower()
            if name_l == b"multi":
                multi = []
                continue
            if name_l == b"exec":
                for cmd_argv in multi or []:
                    self._run(fake, cmd_argv, call, lookup_command, name)
                multi = None
                continue
            if multi is not None:
                multi.append(argv)
                continue
            self._run(fake, argv, call, lookup_command, name)
        if multi is not None:
            server.log("Revert incomplete MULTI/EXEC transaction in AOF file", "warning")

    @staticmethod
    def _run(fake: Any, argv: list[bytes], call: Any, lookup_command: Any, name: str) -> None:
        try:
            cmd = lookup_command(fake, argv)
        except Exception as e:
            raise AofError(f"Unknown command '{argv[0].decode(errors='replace')}' reading the append only file {name}") from e
        call(fake, cmd, argv)


_MALFORMED: Final = object()


def _parse_aof_command(data: bytes, pos: int) -> tuple[list[bytes], int] | object | None:
    """One ``*N`` multibulk at ``pos``: (argv, next pos), None when the file ends inside it
    (torn), or ``_MALFORMED`` when the bytes are not a command."""
    n = len(data)
    if data[pos] != 42:
        return _MALFORMED
    nl = data.find(b"\r\n", pos)
    if nl < 0:
        return None
    try:
        count = int(data[pos + 1 : nl])
    except ValueError:
        return _MALFORMED
    if count < 1:
        return _MALFORMED
    p = nl + 2
    argv: list[bytes] = []
    for _ in range(count):
        if p >= n:
            return None
        if data[p] != 36:
            return _MALFORMED
        nl = data.find(b"\r\n", p)
        if nl < 0:
            return None
        try:
            ln = int(data[p + 1 : nl])
        except ValueError:
            return _MALFORMED
        start = nl + 2
        if start + ln + 2 > n:
            return None
        argv.append(data[start : start + ln])
        p = start + ln + 2
    return argv, p


def install(server: Server) -> Aof:
    existing = server.extensions.get("aof")
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    aof = Aof(server)
    server.extensions["aof"] = aof
    server.cron_hooks.append(aof.cron)

    def load_at_startup() -> bool:
        if not server.config["appendonly"]:
            return False
        loaded = aof.load()
        if not loaded:
            snaps = server.extensions.get("snapshots")
            if snaps is not None:
                snaps.load_at_startup()
        aof.enable()
        return True

    def on_appendonly(value: Any) -> None:
        if value:
            aof.enable()
        else:
            aof.disable()

    server.extensions["aof_load"] = load_at_startup
    server.config.watch("appendonly", on_appendonly)
    return aof
