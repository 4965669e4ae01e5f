"""SCAN cursors over Python containers, with Redis's guarantee and bounded work per call.

Redis's SCAN guarantees that every element present in the collection from the start to the
end of a full iteration is returned at least once (duplicates and elements added or removed
meanwhile may or may not appear), and each call does work proportional to COUNT.  Redis gets
this from reverse-binary iteration over its hash table buckets.  Python dicts and sets expose no
stable buckets, so the cursor here is backed by a *snapshot*:

* At cursor 0, a container with at most COUNT elements is returned whole (cursor 0 again, as
  Redis does for small encodings).  A bigger one is copied with ``list(container)`` — a C-speed
  copy of references, about 8 bytes and a few nanoseconds per element, no per-element Python
  work — into a snapshot with a fresh id.
* The cursor is ``snapshot_id << 32 | position``.  Each call walks the next COUNT entries of the
  snapshot and returns those still in the container (the membership test is what hides deleted
  elements); when the walk reaches the end the snapshot is dropped and the cursor is 0.
* Invariant: an element present for the whole scan was in the snapshot taken at cursor 0, the
  positions only grow, and every position is walked once, so it is returned.  Elements added
  later are not returned (allowed).  Work per call is O(COUNT).
* Live snapshots are bounded (``max_snapshots``, ``max_entries`` references in total) and
  evicted least-recently-used.  A cursor whose snapshot is gone (evicted, finished, a server
  restart, a made-up number, or a container replaced by FLUSHDB/SWAPDB) restarts the walk
  with a fresh snapshot from position 0: the guarantee still holds (duplicates are allowed),
  only the work is repeated.  With more long scans in flight than the bounds allow, those
  restarts could repeat; the bounds are generous for that reason.

Shared by SCAN (``db.data``), HSCAN/SSCAN/ZSCAN (their dict or set): ``cursors_for(server)``
returns the server's ``ScanCursors``; ``parse_cursor`` and ``parse_scan_options`` give Redis's
argument errors.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import parse_int
from snakedis.protocol.errors import SYNTAX, CommandError

if TYPE_CHECKING:
    from snakedis.server.core import Server

INVALID_CURSOR: Final = "ERR invalid cursor"
ULONG_MAX: Final = 2**64 - 1
_POS_BITS: Final = 32
_POS_MASK: Final = (1 << _POS_BITS) - 1
_ID_LIMIT: Final = 1 << 31


def parse_cursor(arg: bytes) -> int:
    """Redis's ``parseScanCursorOrReply``: C ``strtoul`` base 10, the whole argument.

    Like strtoul it takes an optional sign (``-1`` is ULONG_MAX) and reads ``""`` as 0, but no
    leading space and no trailing garbage; out of range is "ERR invalid cursor".
    """
    if not arg:
        return 0
    if arg[0] in b" \t\n\v\f\r":
        raise CommandError(INVALID_CURSOR)
    end = arg.find(b"\x00")
    text = arg if end < 0 else arg[:end]
    neg = False
    digits = text
    if text[:1] in (b"+", b"-"):
        neg = text[:1] == b"-"
        digits = text[1:]
    if not digits:
        if end == 0:
            return 0
        raise CommandError(INVALID_CURSOR)
    if not digits.isdigit():
        raise CommandError(INVALID_CURSOR)
    value = int(digits)
    if value > ULONG_MAX:
        raise CommandError(INVALID_CURSOR)
    return (-value) & ULONG_MAX if neg else value


def parse_scan_options(args: list[bytes], start: int, allow_type: bool) -> tuple[int, bytes | None, bytes | None]:
    """``[MATCH pattern] [COUNT count] [TYPE type]`` -> (count, pattern or None, type or None).

    The pattern is None when absent or ``*`` (Redis treats ``*`` as no pattern).
    """
    count = 10
    pattern: bytes | None = None
    type_name: bytes | None = None
    i = start
    n = len(args)
    while i < n:
        opt = args[i].lower()
        if opt == b"count" and i + 1 < n:
            count = parse_int(args[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
        elif opt == b"match" and i + 1 < n:
            pattern = args[i + 1]
            if pattern == b"*":
                pattern = None
        elif opt == b"type" and allow_type and i + 1 < n:
            type_name = args[i + 1]
        else:
            raise CommandError(SYNTAX)
        i += 2
    return count, pattern, type_name


class _Snapshot:
    __slots__ = ("owner", "items")

    def __init__(self, owner: int, items: list[Any]) -> None:
        self.owner = owner
        self.items = items


class ScanCursors:
    """The live snapshots of one server (see the module docstring)."""

    def __init__(self, max_snapshots: int = 32, max_entries: int = 8_000_000) -> None:
        self.max_snapshots = max_snapshots
        self.max_entries = max_entries
        self._snaps: OrderedDict[int, _Snapshot] = OrderedDict()
        self._entries = 0
        self._next_id = 1
        self.restarts = 0  # cursors that had to start over (observability, tests)

    def __len__(self) -> int:
        return len(self._snaps)

    def scan(self, container: Collection[Any], cursor: int, count: int) -> tuple[int, list[Any]]:
        """One SCAN step: (next cursor, elements of ``container`` walked in this step)."""
        snap: _Snapshot | None = None
        pos = 0
        snap_id = 0
        if cursor:
            snap_id = cursor >> _POS_BITS
            snap = self._snaps.get(snap_id)
            if snap is not None and snap.owner != id(container):
                snap = None
            if snap is None:
                self.restarts += 1
            else:
                pos = cursor & _POS_MASK
                self._snaps.move_to_end(snap_id)
        if snap is None:
            if len(container) <= count:
                return 0, list(container)
            snap_id = self._new_snapshot(container)
            snap = self._snaps[snap_id]
        items = snap.items
        end = pos + count
        batch = items[pos:end]
        out = [x for x in batch if x in container]
        if end >= len(items):
            self._drop(snap_id)
            return 0, out
        return (snap_id << _POS_BITS) | end, out

    def _new_snapshot(self, container: Collection[Any]) -> int:
        items = list(container)
        while self._snaps and (
            len(self._snaps) >= self.max_snapshots or self._entries + len(items) > self.max_entries
        ):
            oldest = next(iter(self._snaps))
            self._drop(oldest)
        snap_id = self._next_id
        self._next_id = snap_id + 1 if snap_id + 1 < _ID_LIMIT else 1
        self._snaps[snap_id] = _Snapshot(id(container), items)
        self._entries += len(items)
        return snap_id

    def _drop(self, snap_id: int) -> None:
        snap = self._snaps.pop(snap_id, None)
        if snap is not None:
            self._entries -= len(snap.items)

    def clear(self) -> None:
        self._snaps.clear()
        self._entries = 0


def cursors_for(server: Server) -> ScanCursors:
    """The server's cursor registry, created on first use."""
    cursors = server.extensions.get("scan_cursors")
    if cursors is None:
        cursors = server.extensions["scan_cursors"] = ScanCursors()
    return cursors  # type: ignore[no-any-return]


def format_cursor(cursor: int) -> bytes:
    return b"%d" % cursor
