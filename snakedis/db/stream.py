"""The stream value (Redis's ``stream`` struct from ``t_stream.c``) and its consumer groups.

IDs are single ints: ``ms << 64 | seq`` (both unsigned 64-bit), so they compare and sort like
Redis's ``streamCompareID`` and bisect cheaply; ``format_id`` gives the ``<ms>-<seq>`` text.

Invariants:

* ``ids`` is the sorted list of the live entry IDs and ``entries`` maps each of them to its
  flat ``[field, value, ...]`` list; ``len(ids) == len(entries)`` is the stream length.
  Range reads bisect ``ids`` (O(log N) seek).
* ``nodes`` mirrors Redis's radix tree of listpacks, because observable behaviour depends
  on it (approximate ``~`` trimming removes whole nodes only; XINFO reports the tree's
  keys and nodes).  Each ``Node`` keeps its master ID and master fields, the IDs it holds
  (live and tombstoned, in order) with their delete flags, its live/deleted counters and
  its listpack size in bytes, computed with listpack's encoding rules so the
  ``stream-node-max-bytes`` split happens where Redis's does.  ``node_keys`` holds the master
  IDs in order (parallel to ``nodes``).  Tombstoned entries keep no field data.
* ``last_id`` is the last ID ever generated, ``first_id`` Redis's ``recorded-first-entry-id``,
  ``max_deleted_id`` the largest ID removed by XDEL, ``entries_added`` the XADD count.
* A group's PEL and each consumer's PEL are ``SortedDict``s id -> ``NACK``; one ``NACK`` object
  is shared by the group PEL and its owner consumer's PEL.  ``groups`` and ``consumers`` are
  plain dicts; replies list them sorted by name bytes (Redis keeps them in a radix tree).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Any, ClassVar, Final

from sortedcontainers import SortedDict  # type: ignore[import-untyped]

from snakedis.db.listpack import entry_size, int_entry_size

if TYPE_CHECKING:
    from snakedis.config import Config

U64: Final = (1 << 64) - 1
MAX_ID: Final = (U64 << 64) | U64
INVALID_ENTRIES_READ: Final = -1
FLAG_DELETED: Final = 1
FLAG_SAMEFIELDS: Final = 2
LISTPACK_MAX_SIZE: Final = 1 << 30


def make_id(ms: int, seq: int) -> int:
    return (ms << 64) | seq


def format_id(sid: int) -> bytes:
    return b"%d-%d" % (sid >> 64, sid & U64)


# --------------------------------------------------------------------------- listpack sizes


def _i64(v: int) -> int:
    v &= U64
    return v - (1 << 64) if v >> 63 else v


lp_int_size = int_entry_size  # bytes of a listpack integer entry
lp_str_size = entry_size  # bytes of a listpack entry holding ``s`` (integers as integers)


# --------------------------------------------------------------------------- structures


class Node:
    """One radix-tree node: a listpack of entries sharing a master entry."""

    __slots__ = ("master_id", "fields", "ids", "flags", "count", "deleted", "nbytes")

    def __init__(self, master_id: int, fields: list[bytes]) -> None:
        self.master_id = master_id
        self.fields = fields
        self.ids: list[int] = []
        self.flags: list[int] = []
        self.count = 0
        self.deleted = 0
        # header(6) + count + deleted + num-fields + fields + master terminator + end byte
        self.nbytes = (
            6 + lp_int_size(0) + lp_int_size(0) + lp_int_size(len(fields)) + sum(map(lp_str_size, fields)) + 2 + 1
        )

    def set_counts(self, count: int, deleted: int) -> None:
        self.nbytes += lp_int_size(count) - lp_int_size(self.count) + lp_int_size(deleted) - lp_int_size(self.deleted)
        self.count = count
        self.deleted = deleted


class Consumer:
    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes, seen_time: int) -> None:
        self.name = name
        self.seen_time = seen_time
        self.pel: SortedDict = SortedDict()


class NACK:
    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, consumer: Consumer | None, delivery_time: int, delivery_count: int = 1) -> None:
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count
        self.consumer = consumer


class Group:
    __slots__ = ("name", "last_id", "entries_read", "pel", "consumers")

    def __init__(self, name: bytes, last_id: int, entries_read: int) -> None:
        self.name = name
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: SortedDict = SortedDict()
        self.consumers: dict[bytes, Consumer] = {}

    def sorted_consumers(self) -> list[Consumer]:
        return [self.consumers[k] for k in sorted(self.consumers)]

    def delete_consumer(self, consumer: Consumer) -> None:
        pel = self.pel
        for sid in consumer.pel:
            del pel[sid]
        del self.consumers[consumer.name]


class Stream:
    """A stream value: entries, the node layout Redis would have, and consumer groups."""

    type_name: ClassVar[bytes] = b"stream"

    __slots__ = (
        "ids",
        "entries",
        "nodes",
        "node_keys",
        "last_id",
        "first_id",
        "max_deleted_id",
        "entries_added",
        "groups",
    )

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.entries: dict[int, list[bytes]] = {}
        self.nodes: list[Node] = []
        self.node_keys: list[int] = []
        self.last_id = 0
        self.first_id = 0
        self.max_deleted_id = 0
        self.entries_added = 0
        self.groups: dict[bytes, Group] = {}

    def encoding(self, config: Config) -> bytes:
        return b"stream"

    def __len__(self) -> int:
        return len(self.ids)

    def copy(self) -> Stream:
        s = Stream()
        s.ids = list(self.ids)
        s.entries = dict(self.entries)  # the flat lists are never mutated in place
        for node in self.nodes:
            n = Node.__new__(Node)
            n.master_id = node.master_id
            n.fields = node.fields
            n.ids = list(node.ids)
            n.flags = list(node.flags)
            n.count = node.count
            n.deleted = node.deleted
            n.nbytes = node.nbytes
            s.nodes.append(n)
        s.node_keys = list(self.node_keys)
        s.last_id = self.last_id
        s.first_id = self.first_id
        s.max_deleted_id = self.max_deleted_id
        s.entries_added = self.entries_added
        for name, g in self.groups.items():
            ng = Group(name, g.last_id, g.entries_read)
            for cname, c in g.consumers.items():
                nc = Consumer(cname, c.seen_time)
                ng.consumers[cname] = nc
                for sid, nack in c.pel.items():
                    copy = NACK(nc, nack.delivery_time, nack.delivery_count)
                    nc.pel[sid] = copy
                    ng.pel[sid] = copy
            s.groups[name] = ng
        return s

    # ------------------------------------------------------------------ reads

    def first_valid(self) -> int | None:
        return self.ids[0] if self.ids else None

    def last_valid(self) -> int | None:
        return self.ids[-1] if self.ids else None

    def range(self, start: int, end: int, count: int = 0, rev: bool = False) -> list[tuple[int, list[bytes]]]:
        """Live entries with ``start <= id <= end``; ``count`` 0 = all."""
        if start > end:
            return []
        ids = self.ids
        lo = bisect_left(ids, start)
        hi = bisect_right(ids, end)
        if lo >= hi:
            return []
        entries = self.entries
        if rev:
            stop = hi - count if count and hi - count > lo else lo
            return [(i, entries[i]) for i in ids[stop:hi][::-1]]
        stop = lo + count if count and lo + count < hi else hi
        return [(i, entries[i]) for i in ids[lo:stop]]

    def has_tombstones_after(self, start: int) -> bool:
        """Redis's ``streamRangeHasTombstones(s, start, NULL)``."""
        mdel = self.max_deleted_id
        if not self.ids or not mdel:
            return False
        if self.first_id > mdel:
            return False
        return start <= mdel

    def estimate_distance(self, sid: int) -> int:
        """Redis's ``streamEstimateDistanceFromFirstEverEntry``."""
        if not self.entries_added:
            return 0
        if not self.ids and sid <= self.last_id:
            return self.entries_added
        if sid == self.last_id:
            return self.entries_added
        if sid > self.last_id:
            return INVALID_ENTRIES_READ
        mdel = self.max_deleted_id
        if not mdel or mdel < self.first_id:
            if sid < self.first_id:
                return self.entries_added - len(self.ids)
            if sid == self.first_id:
                return self.entries_added - len(self.ids) + 1
        return INVALID_ENTRIES_READ

    def lag(self, group: Group) -> int | None:
        """XINFO's ``lag`` of a group (None when it cannot be computed)."""
        if not self.entries_added:
            return 0
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones_after(group.last_id):
            return self.entries_added - group.entries_read
        read = self.estimate_distance(group.last_id)
        if read != INVALID_ENTRIES_READ:
            return self.entries_added - read
        return None

    def rax_nodes(self) -> int:
        """The radix tree's node count for ``node_keys`` (XINFO ``radix-tree-nodes``)."""
        keys = [k.to_bytes(16, "big") for k in self.node_keys]
        seen: set[bytes] = {b""}
        seen.update(keys)
        for a, b in zip(keys, keys[1:], strict=False):
            n = 0
            while a[n] == b[n]:
                n += 1
            seen.add(a[:n])
            seen.add(a[: n + 1])
            seen.add(b[: n + 1])
        return len(seen)

    # ------------------------------------------------------------------ writes

    def append(self, sid: int, flat: list[bytes], max_bytes: int, max_entries: int) -> None:
        """Add an entry with a valid new ID (> last_id), placing it in nodes as Redis does."""
        numfields = len(flat) // 2
        fields = flat[0::2]
        node = self.nodes[-1] if self.nodes else None
        if node is not None:
            if max_bytes == 0 or max_bytes > LISTPACK_MAX_SIZE:
                max_bytes = LISTPACK_MAX_SIZE
            totelelen = sum(map(len, flat))
            if node.nbytes + totelelen >= max_bytes or (max_entries and node.count + node.deleted >= max_entries):
                node = None
        if node is None:
            node = Node(sid, fields)
            self.nodes.append(node)
            self.node_keys.append(sid)
            same = True
        else:
            same = node.fields == fields
        node.set_counts(node.count + 1, node.deleted)
        mid = node.master_id
        size = 2 + lp_int_size(_i64((sid >> 64) - (mid >> 64))) + lp_int_size(_i64((sid & U64) - (mid & U64)))
        if same:
            size += sum(map(lp_str_size, flat[1::2])) + lp_int_size(numfields + 3)
        else:
            size += lp_int_size(numfields) + sum(map(lp_str_size, flat)) + lp_int_size(numfields * 2 + 4)
        node.nbytes += size
        node.ids.append(sid)
        node.flags.append(FLAG_SAMEFIELDS if same else 0)
        self.ids.append(sid)
        self.entries[sid] = flat
        self.entries_added += 1
        self.last_id = sid
        if len(self.ids) == 1:
            self.first_id = sid

    def _node_index(self, sid: int) -> int:
        return bisect_right(self.node_keys, sid) - 1

    def delete(self, sid: int) -> bool:
        """Redis's ``streamDeleteItem``: tombstone one entry; True if it existed."""
        if self.entries.pop(sid, None) is None:
            return False
        ids = self.ids
        del ids[bisect_left(ids, sid)]
        ni = self._node_index(sid)
        node = self.nodes[ni]
        if node.count == 1:
            del self.nodes[ni]
            del self.node_keys[ni]
        else:
            pos = bisect_left(node.ids, sid)
            node.flags[pos] |= FLAG_DELETED
            node.set_counts(node.count - 1, node.deleted + 1)
        return True

    def _drop_node_entries(self, node: Node) -> None:
        entries = self.entries
        for sid, flag in zip(node.ids, node.flags, strict=True):
            if not flag & FLAG_DELETED:
                del entries[sid]

    def trim(self, maxlen: int, minid: int | None, approx: bool, limit: int) -> int:
        """Redis's ``streamTrim`` (MAXLEN when ``minid`` is None); returns entries removed."""
        deleted = 0
        removed_nodes = 0
        length = len(self.ids)
        nodes = self.nodes
        for node in nodes:
            if minid is None and length <= maxlen:
                break
            entries = node.count
            if limit and deleted + entries > limit:
                break
            if minid is None:
                remove_node = length - entries >= maxlen
            else:
                remove_node = node.ids[-1] < minid
            if remove_node:
                self._drop_node_entries(node)
                removed_nodes += 1
                length -= entries
                deleted += entries
                continue
            if approx:
                break
            from_lp = 0
            flags = node.flags
            for i, sid in enumerate(node.ids):
                if minid is None:
                    if length <= maxlen:
                        break
                elif sid >= minid:
                    break
                if not flags[i] & FLAG_DELETED:
                    flags[i] |= FLAG_DELETED
                    del self.entries[sid]
                    from_lp += 1
                    length -= 1
            deleted += from_lp
            node.set_counts(entries - from_lp, node.deleted + from_lp)
            break
        if removed_nodes:
            del nodes[:removed_nodes]
            del self.node_keys[:removed_nodes]
        if deleted:
            ids = self.ids
            del ids[: len(ids) - length]
            self.first_id = ids[0] if ids else 0
        return deleted

    def edge_id_any(self) -> int:
        """``streamGetEdgeID(s, 1, 0)``: the first ID in the nodes, tombstones included."""
        for node in self.nodes:
            if node.ids:
                return node.ids[0]
        return MAX_ID

    def create_group(self, name: bytes, last_id: int, entries_read: int) -> Group | None:
        if name in self.groups:
            return None
        g = Group(name, last_id, entries_read)
        self.groups[name] = g
        return g

    def sorted_groups(self) -> list[Group]:
        return [self.groups[k] for k in sorted(self.groups)]

    # ------------------------------------------------------------------ loading

    def load_node(
        self, master_id: int, fields: list[bytes], items: list[tuple[int, int, list[bytes]]], nbytes: int
    ) -> None:
        """Add a node read from an RDB: ``items`` are (id, flags, flat) in order."""
        node = Node(master_id, fields)
        count = 0
        deleted = 0
        for sid, flags, flat in items:
            node.ids.append(sid)
            node.flags.append(flags)
            if flags & FLAG_DELETED:
                deleted += 1
            else:
                count += 1
                self.ids.append(sid)
                self.entries[sid] = flat
        node.count = count
        node.deleted = deleted
        node.nbytes = nbytes
        if count or deleted:
            self.nodes.append(node)
            self.node_keys.append(master_id)


def entry_reply(sid: int, flat: list[bytes]) -> list[Any]:
    return [format_id(sid), flat]
