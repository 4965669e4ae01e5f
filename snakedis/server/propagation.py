"""Where a write propagates: Redis's ``PROPAGATE_AOF`` / ``PROPAGATE_REPL`` bits.

A propagation target (the AOF's feed, the replication stream's feed) registers with its kind
(``Server.add_propagation_target``); ``Server.propagate`` sends a write bound to one kind only
to the targets of that kind.  Scripts bind their writes with ``redis.set_repl``, whose
``REPL_AOF`` / ``REPL_REPLICA`` / ``REPL_ALL`` / ``REPL_NONE`` are these same values.
"""

from __future__ import annotations

from typing import Final

PROPAGATE_NONE: Final = 0
PROPAGATE_AOF: Final = 1
PROPAGATE_REPL: Final = 2
PROPAGATE_ALL: Final = 3
