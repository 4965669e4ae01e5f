"""The list value: a deque of elements kept pre-encoded as RESP bulk strings.

Invariants:

* ``items`` holds every element as its RESP bulk encoding (``b"$3\\r\\nfoo\\r\\n"``).  Encoding is
  injective, so equality of elements is equality of their encodings: LREM/LPOS/LINSERT encode
  the needle once and compare with C-speed ``deque`` methods, and replies (LPOP, LINDEX, LRANGE)
  are assembled by joining stored bytes without re-encoding anything.  ``decode`` recovers an
  element; ``__iter__``/``values()`` yield plain ``bytes`` for other families (SORT, DUMP ...).
* A stored list is never empty: the command that removes the last element deletes the key.
* ``packed`` is Redis 7.2's encoding state: True for ``listpack`` until a write would exceed
  ``list-max-listpack-size`` (negative: byte limit 4k..64k; positive: entry count, with an
  8 kB safety limit), then ``quicklist`` (False or None); a shrinking write converts back once
  the list is below half of the limit (7.2's hysteresis).  Redis only converts back when the
  quicklist has a single node; node boundaries are not modelled, so a list that fits in half a
  node counts as one node (differs only for lists shrunk from both ends around a node boundary).
* ``lp_bytes`` is the exact size Redis's listpack for these elements would have (7 header/end
  bytes plus each entry's encoding, integer-looking strings stored as integers), maintained on
  every change, except while ``packed`` is None: a quicklist pushed past
  ``SIZE_UNTRACKED_ABOVE`` elements stops the accounting (LPUSH/LPOP on a long list then skip
  it), and ``shrink_check`` recounts it once the list is back to ``SIZE_TRACKED_MAX`` elements.
  Nothing needs the size in between: every entry takes at least 2 bytes, so such a list is over
  32 kB, more than half of any limit, and cannot convert.  Writers may leave ``lp_bytes`` stale
  then; only ``shrink_check`` and ``grow_check`` (a listpack, so never None) read it.

Push and pop at either end are O(1); LINDEX/LSET are O(n/64) (deque blocks); LINSERT/LREM/LPOS
are O(n) like Redis's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice as _islice
from typing import TYPE_CHECKING, ClassVar, Final

from snakedis.db.listpack import entry_size
from snakedis.protocol.resp import string2ll

if TYPE_CHECKING:
    from snakedis.config import Config

LP_HEADER_BYTES: Final = 7  # 4 total bytes + 2 element count + 1 end marker
SIZE_SAFETY_LIMIT: Final = 8192
OPTIMIZATION_LEVEL: Final = (4096, 8192, 16384, 32768, 65536)
_UNLIMITED: Final = 1 << 62
# Size accounting stops above this many elements and resumes at SIZE_TRACKED_MAX or fewer (the
# gap makes the recount O(1) amortised).  2 bytes per entry: 16384 of them exceed 32 kB.
SIZE_UNTRACKED_ABOVE: Final = 32768
SIZE_TRACKED_MAX: Final = 16384
# A quicklist over this many bytes cannot convert back (half the largest limit).
MAX_SHRINK_BYTES: Final = 32768

BULK_HEADERS: Final = [b"$%d\r\n" % i for i in range(4096)]


def encode(value: bytes) -> bytes:
    """The stored form of an element: its RESP bulk string."""
    n = len(value)
    if n < 4096:
        return BULK_HEADERS[n] + value + b"\r\n"
    return b"$%d\r\n%b\r\n" % (n, value)


def decode(item: bytes) -> bytes:
    """The element stored as ``item``."""
    return item[item.index(b"\n") + 1 : -2]


# Listpack size of a stored (encoded) non-integer element, by the stored item's length.
ITEM_SIZE_CACHE: Final[dict[int, int]] = {}


def item_entry_size(item: bytes) -> int:
    """``entry_size`` of the element stored as ``item``."""
    c = item[-3] if len(item) > 6 else 0
    if 48 <= c <= 57 and len(item) <= 27:
        return entry_size(decode(item))
    size = ITEM_SIZE_CACHE.get(len(item))
    if size is None:
        size = entry_size(decode(item))
        if len(ITEM_SIZE_CACHE) < 100_000:
            ITEM_SIZE_CACHE[len(item)] = size
    return size


def node_limits(fill: int) -> tuple[int, int]:
    """(size limit, count limit) of a quicklist node (``quicklistNodeLimit``)."""
    if fill >= 0:
        return _UNLIMITED, (1 if fill == 0 else fill)
    offset = min(-fill - 1, len(OPTIMIZATION_LEVEL) - 1)
    return OPTIMIZATION_LEVEL[offset], _UNLIMITED


def exceeds_limit(fill: int, new_bytes: int, new_count: int) -> bool:
    """``quicklistNodeExceedsLimit``."""
    if fill < 0:
        offset = min(-fill - 1, len(OPTIMIZATION_LEVEL) - 1)
        return new_bytes > OPTIMIZATION_LEVEL[offset]
    if new_bytes > SIZE_SAFETY_LIMIT:
        return True
    return new_count > (1 if fill == 0 else fill)


class Quicklist:
    """A Redis list.  See the module docstring for the invariants."""

    __slots__ = ("items", "lp_bytes", "packed")

    type_name: ClassVar[bytes] = b"list"

    def __init__(self) -> None:
        self.items: deque[bytes] = deque()
        self.lp_bytes = LP_HEADER_BYTES
        self.packed: bool | None = True

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_values(cls, values: Iterable[bytes], fill: int = -2, entries_bytes: int | None = None) -> Quicklist:
        """A list of ``values`` encoded as Redis 7.2 would create it (SORT STORE, RESTORE).

        ``entries_bytes``, when the caller knows it (an RDB listpack's size), saves sizing
        each element again.
        """
        ql = cls()
        vals = list(values)
        ql.items.extend(map(encode, vals))
        ql.lp_bytes += sum(map(entry_size, vals)) if entries_bytes is None else entries_bytes
        ql.packed = not exceeds_limit(fill, ql.lp_bytes, len(vals))
        return ql

    @classmethod
    def from_loaded(cls, items: deque[bytes], lp_bytes: int, fill: int) -> Quicklist:
        """A list taking over ``items``, already in the stored (RESP-encoded) form, whose
        listpack size, header included, the caller knows (RDB load: the blobs' sizes),
        encoded as by ``from_values``."""
        ql = cls.__new__(cls)
        ql.items = items
        ql.lp_bytes = lp_bytes
        # Byte limits (negative fill) are never under 4 kB: most lists need no closer look.
        ql.packed = fill < 0 and lp_bytes <= OPTIMIZATION_LEVEL[0] or not exceeds_limit(fill, lp_bytes, len(items))
        return ql

    def copy(self) -> Quicklist:
        ql = Quicklist.__new__(Quicklist)
        ql.items = self.items.copy()
        ql.lp_bytes = self.lp_bytes
        ql.packed = self.packed
        return ql

    # ------------------------------------------------------------------ introspection

    def encoding(self, config: Config) -> bytes:
        return b"listpack" if self.packed else b"quicklist"

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[bytes]:
        return map(decode, self.items)

    def values(self) -> list[bytes]:
        return [decode(i) for i in self.items]

    def __repr__(self) -> str:
        return f"Quicklist({self.values()!r})"

    # ------------------------------------------------------------------ encoding conversions

    def grow_check(self, fill: int, add_bytes: int, add_count: int) -> None:
        """Before adding elements: listpack -> quicklist when they would not fit (7.2)."""
        if self.packed and exceeds_limit(fill, self.lp_bytes + add_bytes, len(self.items) + add_count):
            self.packed = False

    def shrink_check(self, fill: int) -> None:
        """After removing elements: quicklist -> listpack below half the limit (7.2)."""
        packed = self.packed
        if packed:
            return
        if packed is None:
            if len(self.items) > SIZE_TRACKED_MAX:
                return
            self.lp_bytes = LP_HEADER_BYTES + sum(map(item_entry_size, self.items))
            self.packed = False
        elif self.lp_bytes > MAX_SHRINK_BYTES and len(self.items) > 1:
            return
        size_limit, count_limit = node_limits(fill)
        size_limit //= 2
        count_limit //= 2
        n = len(self.items)
        lp = self.lp_bytes
        if lp > size_limit or n > count_limit:
            return
        # Only one quicklist node can be converted: a node never exceeds the safety limit
        # (count-based fill) or the size limit (byte-based fill) unless it holds one element.
        if fill >= 0 and lp > SIZE_SAFETY_LIMIT and n > 1:
            return
        self.packed = True

    # ------------------------------------------------------------------ writes

    def push_tail(self, values: list[bytes], fill: int) -> None:
        self.grow_check(fill, sum(map(len, values)), len(values))
        self.items.extend(map(encode, values))
        self.grown(values)

    def push_head(self, values: list[bytes], fill: int) -> None:
        self.grow_check(fill, sum(map(len, values)), len(values))
        self.items.extendleft(map(encode, values))
        self.grown(values)

    def grown(self, values: list[bytes]) -> None:
        """Size accounting after ``values`` were added: counted, or untracked from now on
        for a long quicklist (see the module docstring)."""
        packed = self.packed
        if packed is None:
            return
        self.lp_bytes += sum(map(entry_size, values))
        if not packed and len(self.items) > SIZE_UNTRACKED_ABOVE:
            self.packed = None

    def push_item(self, item: bytes, head: bool, fill: int) -> None:
        """Push an already-encoded element (LMOVE): a popped integer counts 0 bytes in 7.2's check."""
        value = decode(item)
        size = entry_size(value)
        is_int = size <= 10 and len(value) <= 20 and string2ll(value) is not None
        self.grow_check(fill, 0 if is_int else len(value), 1)
        if head:
            self.items.appendleft(item)
        else:
            self.items.append(item)
        self.lp_bytes += size

    def pop_head(self) -> bytes:
        """Remove and return the first stored item (caller checks non-empty, then shrink_check)."""
        item = self.items.popleft()
        self.lp_bytes -= item_entry_size(item)
        return item

    def pop_tail(self) -> bytes:
        item = self.items.pop()
        self.lp_bytes -= item_entry_size(item)
        return item

    def pop_many(self, count: int, head: bool) -> list[bytes]:
        """Up to ``count`` items from one end, in pop order."""
        items = self.items
        count = min(count, len(items))
        pop = items.popleft if head else items.pop
        out = [pop() for _ in range(count)]
        self.lp_bytes -= sum(map(item_entry_size, out))
        return out

    def set_at(self, index: int, value: bytes) -> None:
        """Replace the element at a valid non-negative ``index``."""
        items = self.items
        old = items[index]
        items[index] = encode(value)
        self.lp_bytes += entry_size(value) - item_entry_size(old)

    def insert_at(self, index: int, value: bytes) -> None:
        self.items.insert(index, encode(value))
        self.lp_bytes += entry_size(value)

    def remove(self, value: bytes, count: int) -> int:
        """LREM: remove ``count`` matches from the head (negative: from the tail, 0: all)."""
        items = self.items
        target = encode(value)
        total = items.count(target)
        if not total:
            return 0
        limit = total if count == 0 else min(abs(count), total)
        if limit == total:
            self.items = deque([x for x in items if x != target])
        elif count > 0:
            for _ in range(limit):
                items.remove(target)
        else:
            items.reverse()
            for _ in range(limit):
                items.remove(target)
            items.reverse()
        self.lp_bytes -= item_entry_size(target) * limit
        return limit

    def trim(self, ltrim: int, rtrim: int) -> None:
        """Drop ``ltrim`` elements from the head and ``rtrim`` from the tail."""
        items = self.items
        n = len(items)
        if ltrim + rtrim >= n:
            self.items = deque()
            self.lp_bytes = LP_HEADER_BYTES
            return
        keep = n - ltrim - rtrim
        if keep < ltrim + rtrim:
            start = ltrim
            if start <= n - start - keep:
                kept = list(_islice(items, start, start + keep))
            else:
                kept = list(_islice(reversed(items), rtrim, rtrim + keep))
                kept.reverse()
            self.items = deque(kept)
            self.lp_bytes = LP_HEADER_BYTES + sum(map(item_entry_size, kept))
            return
        removed = 0
        for _ in range(ltrim):
            removed += item_entry_size(items.popleft())
        for _ in range(rtrim):
            removed += item_entry_size(items.pop())
        self.lp_bytes -= removed

    # ------------------------------------------------------------------ reads

    def range(self, start: int, end: int) -> list[bytes]:
        """Stored items ``start..end`` inclusive (valid, non-negative, start <= end)."""
        items = self.items
        n = len(items)
        if start <= n - 1 - end:
            return list(_islice(items, start, end + 1))
        out = list(_islice(reversed(items), n - 1 - end, n - start))
        out.reverse()
        return out

    def range_reply(self, start: int, end: int) -> bytes:
        """The RESP array of elements ``start..end`` (valid, non-negative, start <= end)."""
        items = self.items
        n = len(items)
        if start <= n - 1 - end:
            return b"*%d\r\n" % (end - start + 1) + b"".join(_islice(items, start, end + 1))
        tail = list(_islice(reversed(items), n - 1 - end, n - start))
        tail.reverse()
        return b"*%d\r\n" % (end - start + 1) + b"".join(tail)
