"""HyperLogLog commands (Redis's ``hyperloglog.c``): PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.

HLLs are plain string values in Redis's exact HYLL layout (see ``db/hll.py``), so GET, SET,
DUMP/RESTORE and APPEND see the same bytes Redis would hold.

Invariants kept here:

* a key is accepted as an HLL only after Redis's checks (a string, magic ``HYLL``, a known
  encoding, a dense one exactly 12304 bytes), otherwise ``WRONGTYPE Key is not a valid
  HyperLogLog string value.``; corrupt sparse data answers ``INVALIDOBJ``;
* every command that may write an HLL first makes the value a ``bytearray`` owned by the key
  (Redis's ``dbUnshareStringValue``) and then edits it in place, so the key's TTL stays;
* writes follow Redis's order: data, ``signal_modified_key``, the ``pfadd`` event (PFADD and
  PFMERGE), ``dirty``.  PFCOUNT refreshes the cached cardinality in the header, which Redis
  counts as a change (``dirty``) although the command is read-only.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.lookup import lookup_read
from snakedis.commands.strings import unshare
from snakedis.commands.table import CommandGroup
from snakedis.db import hll
from snakedis.protocol.errors import WRONGTYPE, CommandError
from snakedis.protocol.resp import OK, Simple
from snakedis.server.core import NOTIFY_STRING

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("hyperloglog")
command = GROUP.command

INVALID_HLL: Final = "INVALIDOBJ Corrupted HLL object detected"
NOT_HLL: Final = "WRONGTYPE Key is not a valid HyperLogLog string value."

_bytes = bytes
_bytearray = bytearray


def _check_hll(value: Any) -> None:
    """``isHLLObjectOrReply``."""
    t = type(value)
    if t is not _bytes and t is not _bytearray:
        raise CommandError(WRONGTYPE)
    if not hll.is_hll(value):
        raise CommandError(NOT_HLL)


def _signed(card: int) -> int:
    """The uint64 cardinality as ``addReplyLongLong`` prints it."""
    return card - (1 << 64) if card >= 1 << 63 else card


def _add(value: bytearray, elements: list[bytes], max_bytes: int) -> int:
    """``hllAdd`` for each element, in place; the number of registers raised.

    A sparse HLL is edited in its decoded form and written back once (promoted to dense
    when Redis would); corrupt sparse data raises after writing back what changed, as
    Redis's in-place edits leave it.
    """
    pattern = hll.pattern
    dense_set = hll.dense_set
    updated = 0
    if value[4] == hll.HLL_DENSE:
        for ele in elements:
            index, count = pattern(ele)
            if dense_set(value, index, count):
                updated += 1
        return updated
    sparse = hll.Sparse.decode(value, edit=True)
    dense: bytearray | None = None
    changed = False
    for ele in elements:
        index, count = pattern(ele)
        if dense is not None:
            if dense_set(dense, index, count):
                updated += 1
            continue
        r = sparse.set(index, count, max_bytes)
        if r == 1:
            updated += 1
            changed = True
        elif r == 2:
            try:
                dense = hll.to_dense(value, sparse)
            except hll.HllCorrupt:
                r = -1
            else:
                dense_set(dense, index, count)
                updated += 1
        if r == -1:
            if changed:
                value[hll.HLL_HDR_SIZE :] = sparse.encode_body()
            raise CommandError(INVALID_HLL)
    if dense is not None:
        value[:] = dense
    else:
        body = sparse.encode_body()
        if changed:
            value[hll.HLL_HDR_SIZE :] = body
        sparse.keep(body)
    return updated


@command("pfadd", -2, "write denyoom fast", 1, 1, 1, "@hyperloglog")
def pfadd(client: Client, args: list[bytes]) -> Any:
    """PFADD key [element ...] -> 1 if a register changed (or the key was created), else 0."""
    db = client.db
    key = args[1]
    server = client.server
    value = db.lookup(key)
    updated = 0
    if value is None:
        value = hll.new_sparse()
        db.set(key, value)
        updated = 1
    else:
        _check_hll(value)
        value = unshare(db, key, value)
    if len(args) > 2:
        updated += _add(value, args[2:], server.config["hll-sparse-max-bytes"])
    if updated:
        hll.invalidate_cache(value)
        server.signal_modified_key(db, key)
        server.notify(NOTIFY_STRING, "pfadd", key, db.id)
        server.dirty += updated
        return 1
    return 0


@command("pfcount", -2, "readonly", 1, -1, 1, "@hyperloglog")
def pfcount(client: Client, args: list[bytes]) -> Any:
    """PFCOUNT key [key ...] -> the approximated cardinality (of the union for several keys)."""
    if len(args) > 2:
        regs = bytearray(hll.HLL_REGISTERS)
        for key in args[1:]:
            value = lookup_read(client, key)
            if value is None:
                continue
            _check_hll(value)
            try:
                regs = hll.merge_into(regs, value)
            except hll.HllCorrupt:
                raise CommandError(INVALID_HLL) from None
        return _signed(hll.estimate(hll.raw_histogram(regs)))
    key = args[1]
    value = lookup_read(client, key)
    if value is None:
        return 0
    _check_hll(value)
    db = client.db
    value = unshare(db, key, value)
    card = hll.cached_card(value)
    if card is None:
        hist = hll.histogram(value)
        if hist is None:
            raise CommandError(INVALID_HLL)
        card = hll.estimate(hist)
        hll.store_card(value, card)
        server = client.server
        server.signal_modified_key(db, key)
        server.dirty += 1
    return _signed(card)


@command("pfmerge", -2, "write denyoom", 1, -1, 1, "@hyperloglog")
def pfmerge(client: Client, args: list[bytes]) -> Any:
    """PFMERGE destkey [sourcekey ...] -> OK; destkey becomes the union (destkey included)."""
    regs = bytearray(hll.HLL_REGISTERS)
    use_dense = False
    for key in args[1:]:
        value = lookup_read(client, key)
        if value is None:
            continue
        _check_hll(value)
        if value[4] == hll.HLL_DENSE:
            use_dense = True
        try:
            regs = hll.merge_into(regs, value)
        except hll.HllCorrupt:
            raise CommandError(INVALID_HLL) from None
    db = client.db
    server = client.server
    key = args[1]
    dest = db.lookup(key)
    if dest is None:
        dest = hll.new_sparse()
        db.set(key, dest)
    else:
        dest = unshare(db, key, dest)
    if use_dense and dest[4] == hll.HLL_SPARSE:
        try:
            dest[:] = hll.to_dense(dest)
        except hll.HllCorrupt:
            raise CommandError(INVALID_HLL) from None
    if dest[4] == hll.HLL_DENSE:
        # The destination is one of the sources, so every register ends at the maximum.
        dest[hll.HLL_HDR_SIZE :] = hll.pack_registers(regs)
    else:
        sparse = hll.Sparse.decode(dest, edit=True)
        dense: bytearray | None = None
        max_bytes = server.config["hll-sparse-max-bytes"]
        for j, count in enumerate(regs):
            if not count:
                continue
            if dense is not None:
                hll.dense_set(dense, j, count)
            elif sparse.set(j, count, max_bytes) == 2:
                try:
                    dense = hll.to_dense(dest, sparse)
                except hll.HllCorrupt:
                    continue
                hll.dense_set(dense, j, count)
        if dense is not None:
            dest[:] = dense
        else:
            body = sparse.encode_body()
            dest[hll.HLL_HDR_SIZE :] = body
            sparse.keep(body)
    hll.invalidate_cache(dest)
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_STRING, "pfadd", key, db.id)
    server.dirty += 1
    return OK


@command("pfdebug", 3, "write denyoom admin", 2, 2, 1, "@hyperloglog")
def pfdebug(client: Client, args: list[bytes]) -> Any:
    """PFDEBUG GETREG|DECODE|ENCODING|TODENSE key -> registers / opcodes text / encoding /
    1 if converted to dense."""
    db = client.db
    key = args[2]
    value = db.lookup(key)
    if value is None:
        raise CommandError("ERR The specified key does not exist")
    _check_hll(value)
    value = unshare(db, key, value)
    sub = args[1].lower()
    if sub == b"getreg":
        if value[4] == hll.HLL_SPARSE:
            try:
                value[:] = hll.to_dense(value)
            except hll.HllCorrupt:
                raise CommandError(INVALID_HLL) from None
            client.server.dirty += 1
        return list(hll.dense_registers(value))
    if sub == b"decode":
        if value[4] != hll.HLL_SPARSE:
            raise CommandError("ERR HLL encoding is not sparse")
        return hll.decode_text(value)
    if sub == b"encoding":
        return Simple(b"dense" if value[4] == hll.HLL_DENSE else b"sparse")
    if sub == b"todense":
        if value[4] == hll.HLL_SPARSE:
            try:
                value[:] = hll.to_dense(value)
            except hll.HllCorrupt:
                raise CommandError(INVALID_HLL) from None
            client.server.dirty += 1
            return 1
        return 0
    raise CommandError(b"ERR Unknown PFDEBUG subcommand '%s'" % args[1].replace(b"\r", b" ").replace(b"\n", b" "))


@command("pfselftest", 1, "admin", 0, 0, 0, "@hyperloglog")
def pfselftest(client: Client, args: list[bytes]) -> Any:
    """PFSELFTEST -> OK, or a TESTFAILED error (a quick version of Redis's self test)."""
    rng = random.Random()
    # Test 1: the packed registers keep every value and do not disturb their neighbours.
    buf = bytearray(hll.HLL_DENSE_SIZE)
    expected = bytes(rng.getrandbits(6) for _ in range(hll.HLL_REGISTERS))
    for i, v in enumerate(expected):
        hll.dense_set(buf, i, v)
    got = hll.dense_registers(buf)
    if got != expected:
        i = next(j for j in range(hll.HLL_REGISTERS) if got[j] != expected[j])
        raise CommandError(f"TESTFAILED Register {i} should be {expected[i]} but is {got[i]}")
    if hll.pack_registers(expected) != bytes(buf[hll.HLL_HDR_SIZE :]):
        raise CommandError("TESTFAILED register packing disagrees")
    # Test 2: sparse and dense agree, and the error stays within bounds.
    dense = bytearray(hll.HLL_DENSE_SIZE)
    dense[0:4] = hll.MAGIC
    sparse = hll.new_sparse()
    max_bytes = client.server.config["hll-sparse-max-bytes"]
    seed = rng.getrandbits(64)
    relerr = 1.04 / hll.HLL_REGISTERS**0.5
    checkpoint = 1
    for j in range(1, 10001):
        ele = ((j ^ seed) & ((1 << 64) - 1)).to_bytes(8, "little")
        index, count = hll.pattern(ele)
        hll.dense_set(dense, index, count)
        try:
            _add(sparse, [ele], max_bytes)
        except CommandError:
            raise CommandError("TESTFAILED sparse representation corrupted") from None
        if j == checkpoint:
            card = hll.estimate(hll.raw_histogram(hll.dense_registers(dense)))
            hist = hll.histogram(sparse)
            if hist is None or hll.estimate(hist) != card:
                raise CommandError("TESTFAILED dense/sparse disagree")
            maxerr = 1 if j == 10 else int(-(-relerr * 6 * checkpoint // 1))
            if abs(checkpoint - card) > maxerr:
                raise CommandError(f"TESTFAILED Too big error. card:{checkpoint} abserr:{abs(checkpoint - card)}")
            checkpoint *= 10
    return OK
