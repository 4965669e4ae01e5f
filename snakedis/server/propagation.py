"""Where a write propagates: Redis's ``PROPAGATE_AOF`` / ``PROPAGATE_REPL`` bits.

A propagation target (the AOF's feed, the replication stream's feed) registers with its kind
(``Server.add_propagation_target``); ``Server.propagate`` sends a write bound to one kind only
to the targets of that kind.  Scripts bind their writes with ``redis.set_repl``, whose
``REPL_AOF`` / ``REPL_REPLICA`` / ``REPL_ALL`` / ``REPL_NONE`` are these same values.
"""

from __future__ import annotations

from typing import Any, Final

PROPAGATE_NONE: Final = 0
PROPAGATE_AOF: Final = 1
PROPAGATE_REPL: Final = 2
PROPAGATE_ALL: Final = 3


def emit_unit(server: Any, ops: list[tuple[int, list[bytes], int]]) -> None:
    """Send a transaction's or a script's effects ``(db, argv, targets)`` as one unit.

    Each target gets its own effects, wrapped in MULTI/EXEC when there is more than one of them
    (what Redis 7.0 writes: a script's REPL_REPLICA write next to a plain one leaves a single
    unwrapped command in the AOF, and two replica-only writes leave nothing there).
    """
    if all(op[2] == PROPAGATE_ALL for op in ops):
        if len(ops) == 1:
            server.propagate(ops[0][0], ops[0][1])
            return
        server.propagate(ops[0][0], [b"MULTI"])
        for db_id, argv, _targets in ops:
            server.propagate(db_id, argv)
        server.propagate(ops[-1][0], [b"EXEC"])
        return
    for kind in (PROPAGATE_AOF, PROPAGATE_REPL):
        mine = [op for op in ops if op[2] & kind]
        if len(mine) == 1:
            server.propagate(mine[0][0], mine[0][1], kind)
        elif mine:
            server.propagate(mine[0][0], [b"MULTI"], kind)
            for db_id, argv, _targets in mine:
                server.propagate(db_id, argv, kind)
            server.propagate(mine[-1][0], [b"EXEC"], kind)
