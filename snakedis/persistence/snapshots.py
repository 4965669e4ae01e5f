"""RDB snapshot lifecycle: SAVE, forked BGSAVE, save points, load at start-up, save at exit.

Redis's model: BGSAVE forks; the child writes a copy-on-write snapshot of the parent's memory
(``os.fork()`` gives the same here) while the parent keeps serving; the cron reaps the child
and records the outcome.  Only one child at a time.  ``rdb_changes_since_last_save`` is
``server.dirty - dirty_at_save``: the dirty counter at fork time is what a successful BGSAVE
makes durable.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Final

from snakedis.persistence import rdb
from snakedis.persistence.rdbformat import RdbFormatError

if TYPE_CHECKING:
    from snakedis.server.core import Server

BGSAVE_RETRY_DELAY: Final = 5  # seconds, CONFIG_BGSAVE_RETRY_DELAY
MISCONF: Final = (
    b"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    b"Commands that may modify the data set are disabled, because this instance is configured to report "
    b"errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). "
    b"Please check the Redis logs for details about the RDB error."
)


class Snapshots:
    """Per-server snapshot state (INFO persistence reads these fields)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.child_pid = 0
        self.child_started = 0.0
        self.child_dirty = 0
        self.dirty_at_save = 0
        self.lastsave = int(time.time())
        self.last_bgsave_ok = True
        self.last_bgsave_try = 0.0
        self.last_bgsave_time_sec = -1
        self.last_save_status_ok = True
        self.bgsave_scheduled = False
        self.saves = 0
        self.loading = False
        self.last_load_keys = 0
        self.shutdown_done = False

    # ------------------------------------------------------------------ paths

    def path(self) -> str:
        cfg = self.server.config
        return os.path.join(cfg["dir"] if cfg["dir"] else ".", cfg["dbfilename"])

    def functions_blobs(self) -> list[bytes]:
        dump = self.server.extensions.get("functions_rdb_blobs")
        return list(dump()) if dump is not None else []

    # ------------------------------------------------------------------ saving

    def save(self) -> None:
        """Foreground SAVE: blocks the loop, as in Redis."""
        server = self.server
        start = time.time()
        dirty = server.dirty
        try:
            rdb.save_to_path(server, self.path(), self.functions_blobs())
        except OSError as e:
            self.last_save_status_ok = False
            self.last_bgsave_ok = False
            server.log(f"Failed opening the temp RDB file for saving: {e}", "warning")
            raise
        self.dirty_at_save = dirty
        self.lastsave = int(time.time())
        server.lastsave = self.lastsave
        self.last_bgsave_ok = True
        self.last_save_status_ok = True
        self._update_misconf_gate()
        self.saves += 1
        server.log(f"DB saved on disk ({time.time() - start:.3f}s)")

    def bgsave(self) -> bool:
        """Fork a child that writes the snapshot; False if one is already running."""
        if self.child_pid:
            return False
        server = self.server
        self.last_bgsave_try = time.time()
        path = self.path()
        blobs = self.functions_blobs()
        pid = os.fork()
        if pid == 0:  # child: write and leave without touching the parent's loop
            code = 1
            try:
                rdb.save_to_path(server, path, blobs)
                code = 0
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        self.child_pid = pid
        self.child_started = time.time()
        self.child_dirty = server.dirty
        server.log(f"Background saving started by pid {pid}")
        return True

    def reap(self) -> None:
        """From the cron: collect a finished child and record how it went."""
        if not self.child_pid:
            return
        try:
            pid, status = os.waitpid(self.child_pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.child_pid, 1 << 8
        if pid == 0:
            return
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        server = self.server
        self.last_bgsave_time_sec = int(time.time() - self.child_started)
        self.child_pid = 0
        if ok:
            self.dirty_at_save = self.child_dirty
            self.lastsave = int(time.time())
            server.lastsave = self.lastsave
            self.last_bgsave_ok = True
            self.saves += 1
            server.log("Background saving terminated with success")
        else:
            self.last_bgsave_ok = False
            server.log("Background saving error", "warning")
        self._update_misconf_gate()
        for hook in server.extensions.get("bgsave_done_hooks", ()):
            hook(ok)

    def _misconf_gate(self, client: object, cmd: object, argv: list[bytes]) -> bytes | None:
        """``stop-writes-on-bgsave-error``: refuse writes (and PING, so monitoring notices)
        while the last BGSAVE failed, as Redis's ``writeCommandsDeniedByDiskError``."""
        server = self.server
        if (
            (getattr(cmd, "is_write", False) or getattr(cmd, "name", "") == "ping")
            and server.config["stop-writes-on-bgsave-error"]
            and server.config["save"]
            and not self.last_bgsave_ok
            and not getattr(client, "is_master", False)
        ):
            return MISCONF
        return None

    def _update_misconf_gate(self) -> None:
        gates = self.server.command_gates
        if self.last_bgsave_ok:
            if self._misconf_gate in gates:
                gates.remove(self._misconf_gate)
        elif self._misconf_gate not in gates:
            gates.append(self._misconf_gate)

    def changes_since_save(self) -> int:
        return self.server.dirty - self.dirty_at_save

    def cron(self) -> None:
        self.reap()
        if self.child_pid:
            return
        now = time.time()
        if self.bgsave_scheduled:
            self.bgsave_scheduled = False
            self.bgsave()
            return
        changes = self.changes_since_save()
        if not changes:
            return
        for seconds, min_changes in self.server.config["save"]:
            if (
                changes >= min_changes
                and now - self.lastsave > seconds
                and (self.last_bgsave_ok or now - self.last_bgsave_try > BGSAVE_RETRY_DELAY)
            ):
                self.server.log(f"{min_changes} changes in {seconds} seconds. Saving...")
                self.bgsave()
                return

    def kill_child(self) -> None:
        if self.child_pid:
            try:
                os.kill(self.child_pid, 9)
                os.waitpid(self.child_pid, 0)
            except OSError:
                pass
            self.child_pid = 0
            tmp = os.path.join(os.path.dirname(os.path.abspath(self.path())), "temp-%d.rdb")
            try:
                os.unlink(tmp)
            except OSError:
                pass

    # ------------------------------------------------------------------ loading

    def load_at_startup(self) -> None:
        path = self.path()
        if not os.path.exists(path):
            return
        start = time.time()
        with open(path, "rb") as f:
            data = f.read()
        self.loading = True
        try:
            result = rdb.load_rdb(data, self.server, self.server.extensions.get("functions_load_rdb"))
        finally:
            self.loading = False
        self.last_load_keys = result.keys
        self.server.log(f"DB loaded from disk: {time.time() - start:.3f} seconds")

    def reload(self) -> None:
        """DEBUG RELOAD: save, empty, load again."""
        self.save()
        for db in self.server.dbs:
            db.clear()
        with open(self.path(), "rb") as f:
            rdb.load_rdb(f.read(), self.server, self.server.extensions.get("functions_load_rdb"))

    def shutdown(self, mode: str | None) -> None:
        """Before exit (SIGTERM): save when save points exist, unless SHUTDOWN already did."""
        if self.shutdown_done:
            return
        self.shutdown_done = True
        self.kill_child()
        if mode == "nosave":
            return
        if mode == "save" or self.server.config["save"]:
            try:
                self.save()
            except OSError:
                pass


def install(server: Server) -> Snapshots:
    existing = server.extensions.get("snapshots")
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    snaps = Snapshots(server)
    server.extensions["snapshots"] = snaps
    server.cron_hooks.append(snaps.cron)

    def shutdown_save(do_save: bool) -> str | None:
        """SHUTDOWN's save step (the command decided SAVE/NOSAVE/default)."""
        snaps.kill_child()
        snaps.shutdown_done = True
        if do_save:
            try:
                snaps.save()
            except OSError:
                return "Errors trying to SHUTDOWN. Check logs."
        return None

    server.extensions["shutdown_save"] = shutdown_save

    def flushall_save() -> None:
        """FLUSHALL with save points: kill any BGSAVE and write the (empty) snapshot, as Redis."""
        if server.config["save"]:
            snaps.kill_child()
            try:
                snaps.save()
            except OSError:
                pass
            # Redis's FLUSHALL leaves the data it just saved counted as changed once more.
            snaps.dirty_at_save = server.dirty

    server.extensions["flushall_save"] = flushall_save
    return snaps


__all__ = ["Snapshots", "install", "RdbFormatError"]
