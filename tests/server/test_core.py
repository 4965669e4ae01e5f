"""Server start-up, in-process."""

from __future__ import annotations

import gc
import pathlib

from snakedis.config import Config
from snakedis.server.core import Server


def test_start_up_objects_are_frozen_out_of_the_cyclic_gc(tmp_path: pathlib.Path) -> None:
    """A full collection would otherwise walk the command table and every module each time
    (16–24 ms on the benchmark VM): start-up freezes what exists."""
    cfg = Config()
    for name, value in (("save", ""), ("dir", str(tmp_path))):
        cfg.set_value(*cfg.parse_value(name, value))
    gc.unfreeze()
    try:
        server = Server(cfg)
        assert gc.get_freeze_count() == 0
        server.load_data()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
