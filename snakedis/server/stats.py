"""Counters the server keeps for INFO, SLOWLOG and LATENCY.

All recording is O(1) and allocation-light because it runs after every command.
Latency histograms use power-of-two nanosecond buckets (like HdrHistogram with one
significant bit): cheap to record, and percentiles good to within a factor of two, enough
to see a stall.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final

HIST_BUCKETS: Final = 64


class Histogram:
    """Latency histogram in power-of-two nanosecond buckets (bucket i holds [2^(i-1), 2^i) ns).

    ``call()`` increments ``buckets[ns.bit_length()]`` directly on the hot path.
    """

    __slots__ = ("buckets",)

    def __init__(self) -> None:
        self.buckets = [0] * HIST_BUCKETS

    @property
    def count(self) -> int:
        return sum(self.buckets)

    def record(self, ns: int) -> None:
        self.buckets[ns.bit_length()] += 1

    def percentile_usec(self, p: float) -> float:
        """Upper bound of the bucket holding the p-th percentile, in microseconds."""
        count = self.count
        if not count:
            return 0.0
        target = max(1, int(count * p / 100.0 + 0.999999))
        seen = 0
        for i, n in enumerate(self.buckets):
            seen += n
            if seen >= target:
                return (1 << i) / 1000.0
        return 0.0

    def reset(self) -> None:
        self.buckets[:] = [0] * HIST_BUCKETS  # in place: CommandStats.buckets aliases it


@dataclass
class SlowLogEntry:
    id: int
    timestamp: int
    duration_us: int
    argv: list[bytes]
    peer: bytes
    name: bytes


class SlowLog:
    """SLOWLOG: the newest entries first, capped at ``slowlog-max-len``."""

    MAX_ARGC: Final = 32
    MAX_ARGLEN: Final = 128

    def __init__(self) -> None:
        self.entries: deque[SlowLogEntry] = deque()
        self.next_id = 0

    def add(self, argv: list[bytes], duration_us: int, peer: bytes, name: bytes, max_len: int) -> None:
        argc = len(argv)
        shown: list[bytes] = []
        for i, a in enumerate(argv[: self.MAX_ARGC]):
            if i == self.MAX_ARGC - 1 and argc > self.MAX_ARGC:
                shown.append(b"... (%d more arguments)" % (argc - self.MAX_ARGC + 1))
                break
            if len(a) > self.MAX_ARGLEN:
                shown.append(a[: self.MAX_ARGLEN] + b"... (%d more bytes)" % (len(a) - self.MAX_ARGLEN))
            else:
                shown.append(a)
        self.entries.appendleft(SlowLogEntry(self.next_id, int(time.time()), duration_us, shown, peer, name))
        self.next_id += 1
        self.trim(max_len)

    def trim(self, max_len: int) -> None:
        while len(self.entries) > max(0, max_len):
            self.entries.pop()

    def reset(self) -> None:
        self.entries.clear()


@dataclass
class LatencyEvent:
    samples: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=160))
    max_ms: int = 0


class LatencyMonitor:
    """LATENCY: per-event samples over ``latency-monitor-threshold`` (one per second)."""

    def __init__(self) -> None:
        self.events: dict[str, LatencyEvent] = {}

    def add_sample(self, event: str, ms: int) -> None:
        ev = self.events.get(event)
        if ev is None:
            ev = self.events[event] = LatencyEvent()
        now = int(time.time())
        if ev.samples and ev.samples[-1][0] == now:
            t, old = ev.samples[-1]
            ev.samples[-1] = (t, max(old, ms))
        else:
            ev.samples.append((now, ms))
        ev.max_ms = max(ev.max_ms, ms)

    def reset(self, names: list[str] | None = None) -> int:
        if not names:
            n = len(self.events)
            self.events.clear()
            return n
        n = 0
        for name in names:
            if self.events.pop(name, None) is not None:
                n += 1
        return n


class Stats:
    """INFO stats counters."""

    def __init__(self) -> None:
        self.total_connections_received = 0
        self.total_commands_processed = 0
        self.rejected_connections = 0
        self.expired_keys = 0
        self.expired_stale_perc = 0.0
        self.expired_time_cap_reached_count = 0
        self.evicted_keys = 0
        self.evicted_clients = 0
        self.keyspace_hits = 0
        self.keyspace_misses = 0
        self.total_net_input_bytes = 0
        self.total_net_output_bytes = 0
        self.pubsub_messages = 0
        self.total_error_replies = 0
        self.unexpected_error_replies = 0
        self.errors: dict[str, int] = {}
        self.total_reads_processed = 0
        self.total_writes_processed = 0
        self.client_query_buffer_limit_disconnections = 0
        self.client_output_buffer_limit_disconnections = 0
        self.cron_loops = 0
        self._inst_samples: deque[tuple[float, int, int, int]] = deque(maxlen=16)
        self.instantaneous_ops = 0.0
        self.instantaneous_input_kbps = 0.0
        self.instantaneous_output_kbps = 0.0

    def count_error(self, message: bytes) -> None:
        """INFO errorstats: the code is the first word of the error text."""
        self.total_error_replies += 1
        code = message.split(b" ", 1)[0].decode("utf-8", "replace")
        self.errors[code] = self.errors.get(code, 0) + 1

    def sample_instantaneous(self, now: float) -> None:
        s = self._inst_samples
        s.append((now, self.total_commands_processed, self.total_net_input_bytes, self.total_net_output_bytes))
        if len(s) >= 2:
            t0, c0, i0, o0 = s[0]
            t1, c1, i1, o1 = s[-1]
            dt = t1 - t0
            if dt > 0:
                self.instantaneous_ops = (c1 - c0) / dt
                self.instantaneous_input_kbps = (i1 - i0) / dt / 1024
                self.instantaneous_output_kbps = (o1 - o0) / dt / 1024

    def reset(self) -> None:
        keep = self.cron_loops
        self.__init__()  # type: ignore[misc]
        self.cron_loops = keep


def as_dict(obj: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
