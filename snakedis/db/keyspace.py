"""The keyspace: one ``Database`` per SELECT index, values plus expiry times.

Invariants:

* ``data`` maps key bytes to the value object; ``expires`` maps a subset of those keys to an
  absolute unix time in milliseconds.  A key in ``expires`` is always in ``data``.
* Strings are ``bytes`` (``bytearray`` once modified in place by APPEND/SETRANGE/SETBIT, which
  is what Redis reports as the ``raw`` encoding); other types are their own classes.
* A key whose time has come is logically absent: every read goes through ``lookup`` which
  deletes it on the spot (lazy expiry), and the cron's ``active_expire_cycle`` samples keys
  with a TTL to reclaim the rest within a time budget (Redis's ``activeExpireCycle``).
* Every deletion by expiry is announced through ``Server.on_key_expired`` so it is
  propagated as a DEL, fires the ``expired`` event and invalidates WATCH.
* A replica never deletes expired keys itself; it hides them on read (the primary's DEL
  arrives in the stream).
* Access metadata for OBJECT IDLETIME / OBJECT FREQ (and LRU/LFU eviction) lives in ``access``
  (key -> LRU clock in seconds, or LFU ``minutes << 8 | counter``), and only while
  ``maxmemory-policy`` is an LRU or LFU policy: a dict entry per key is ~40 bytes, which the
  default (noeviction) configuration does not pay, so 1M keys stay within the memory target.
  With ``access`` None, OBJECT IDLETIME reports 0.  ``lookup`` and ``set`` record accesses;
  ``peek`` reads without touching (TYPE, TTL, OBJECT).  Entries of deleted keys are removed
  by ``delete``/``clear``/the expiry paths in this module and ``active_expire_cycle``; an
  entry left behind by another deletion path is harmless (overwritten when the key returns).
* Random sampling (RANDOMKEY, eviction, the expiry cycle) draws from a cached list of the keys
  (``list(dict)``, a C-speed copy) that is rebuilt once it is stale: after len/16 draws or a
  size change of more than 1/8.  That keeps each draw O(1) amortised and close to uniform,
  which iterating into a dict (no random access) cannot do.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any, Final

from snakedis.protocol.resp import string2ll

if TYPE_CHECKING:
    from snakedis.server.core import Server

ACTIVE_EXPIRE_KEYS_PER_LOOP: Final = 20
ACTIVE_EXPIRE_ACCEPTABLE_STALE: Final = 10  # percent
LFU_INIT_VAL: Final = 5
OBJ_SHARED_INTEGERS: Final = 10000
LRU_POLICIES: Final = frozenset(("allkeys-lru", "volatile-lru"))
LFU_POLICIES: Final = frozenset(("allkeys-lfu", "volatile-lfu"))

# One shared int object per clock value, so keys touched in the same second or minute cost no
# int allocation of their own.
_clock_cache: list[int] = [-1, -1]


class Database:
    """One numbered database."""

    __slots__ = (
        "id",
        "server",
        "data",
        "expires",
        "watched_keys",
        "blocking_keys",
        "avg_ttl",
        "expires_cursor",
        "_expire_keys_cache",
        "access",
        "lfu",
        "_sample_cache",
        "_sample_draws",
    )

    def __init__(self, index: int, server: Server) -> None:
        self.id = index
        self.server = server
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        # key -> list of clients WATCHing it (transactions)
        self.watched_keys: dict[bytes, list[Any]] = {}
        # key -> list of clients blocked on it, FIFO (blocking commands)
        self.blocking_keys: dict[bytes, list[Any]] = {}
        self.avg_ttl = 0
        self.expires_cursor = 0
        self._expire_keys_cache: list[bytes] | None = None
        # OBJECT IDLETIME/FREQ metadata, None unless an LRU/LFU policy is set (see above).
        self.access: dict[bytes, int] | None = None
        self.lfu = False
        self._sample_cache: list[bytes] | None = None
        self._sample_draws = 0
        sync_access_tracking(self, server.config["maxmemory-policy"])
        if index == 0:
            server.config.watch("maxmemory-policy", lambda v: _policy_changed(server, v))

    # ------------------------------------------------------------------ reads

    def lookup(self, key: bytes) -> Any:
        """The live value of ``key`` or None, expiring it first if its time has come."""
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.server.cmd_time_ms and not self.server.serving_master:
                self._expire(key)
                return None
        if self.access is None:
            return self.data.get(key)
        value = self.data.get(key)
        if value is not None:
            self.touch(key)
        return value

    def peek(self, key: bytes) -> Any:
        """Like ``lookup`` (lazy expiry included) but not an access: no LRU/LFU update."""
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.server.cmd_time_ms and not self.server.serving_master:
                self._expire(key)
                return None
        return self.data.get(key)

    def _expire(self, key: bytes) -> None:
        """Delete an expired key (a replica keeps it, hidden, until the primary's DEL)."""
        if self.server.expire_key(self, key) and self.access is not None:
            self.access.pop(key, None)

    # ------------------------------------------------------------------ access metadata

    def touch(self, key: bytes) -> None:
        """Record an access to ``key`` (Redis's LRU clock or LFU counter update)."""
        access = self.access
        if access is None:
            return
        if self.lfu:
            access[key] = _lfu_touch(self.server, access.get(key))
        else:
            access[key] = _lru_clock(self.server.cmd_time_ms)

    def idle_ms(self, key: bytes) -> int:
        """OBJECT IDLETIME in ms (0 when not tracked)."""
        access = self.access
        if access is None or self.lfu:
            return 0
        stamp = access.get(key)
        if stamp is None:
            return 0
        return max(0, self.server.cmd_time_ms // 1000 - stamp) * 1000

    def freq(self, key: bytes) -> int:
        """OBJECT FREQ: the decayed LFU counter."""
        access = self.access
        if access is None or not self.lfu:
            return 0
        packed = access.get(key)
        if packed is None:
            return LFU_INIT_VAL
        return _lfu_decr(self.server, packed)

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def get_expire(self, key: bytes) -> int | None:
        return self.expires.get(key)

    def is_expired(self, key: bytes, now_ms: int) -> bool:
        when = self.expires.get(key)
        return when is not None and when <= now_ms

    # ------------------------------------------------------------------ writes

    def set(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store ``value`` (a new value for the key: any TTL is dropped unless ``keep_ttl``)."""
        self.data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        access = self.access
        if access is not None:
            if not self.lfu:
                access[key] = _lru_clock(self.server.cmd_time_ms)
            elif key not in access:
                # A new object starts at LFU_INIT_VAL; an overwrite keeps the old counter.
                access[key] = (_lfu_minutes(self.server) << 8) | LFU_INIT_VAL

    def delete(self, key: bytes) -> bool:
        """Remove ``key``; True when it existed (expired keys count as absent).

        As Redis's DEL (``expireIfNeeded`` then ``dbSyncDelete``), a replica removes a key it
        only hides, and counts it: that is how the primary's DEL of an expired key lands.
        """
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.server.cmd_time_ms and self.server.expire_key(self, key):
                if self.access is not None:
                    self.access.pop(key, None)
                return False
        if key not in self.data:
            return False
        del self.data[key]
        if self.expires:
            self.expires.pop(key, None)
        if self.access is not None:
            self.access.pop(key, None)
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def clear(self) -> int:
        n = len(self.data)
        self.data = {}
        self.expires = {}
        self.avg_ttl = 0
        self.expires_cursor = 0
        self._expire_keys_cache = None
        self._sample_cache = None
        if self.access is not None:
            self.access = {}
        return n

    def __len__(self) -> int:
        return len(self.data)

    # ------------------------------------------------------------------ sampling

    def random_key(self) -> bytes | None:
        """A random live key (RANDOMKEY), expiring the expired ones it meets as Redis does.

        Like Redis's ``dbRandomKey``, on a replica where every key has a TTL it gives up after
        100 expired draws and returns one of them rather than loop.
        """
        data = self.data
        tries = 0
        while data:
            key = self._draw()
            if key is None:
                return None
            when = self.expires.get(key) if self.expires else None
            if when is None:
                return key
            if when > self.server.cmd_time_ms:
                return key
            if self.server.is_replica:
                tries += 1
                if tries >= 100 and len(self.expires) == len(data):
                    return key
                continue
            self.peek(key)  # expires it
            data = self.data
        return None

    def sample_keys(self, count: int) -> list[bytes]:
        """Up to ``count`` random existing keys (eviction sampling); may repeat."""
        if not self.data:
            return []
        out = []
        for _ in range(count):
            key = self._draw()
            if key is None:
                break
            out.append(key)
        return out

    def _draw(self) -> bytes | None:
        """One key drawn close to uniformly (see the module docstring)."""
        data = self.data
        n = len(data)
        if not n:
            return None
        for _ in range(64):
            cache = self._sample_cache
            if (
                cache is None
                or self._sample_draws * 16 > len(cache)
                or abs(len(cache) - n) * 8 > n
            ):
                cache = self._sample_cache = list(data)
                self._sample_draws = 0
            self._sample_draws += 1
            key = cache[random.randrange(len(cache))]
            if key in data:
                return key
        # The cache is mostly stale keys: rebuild and draw once more.
        cache = self._sample_cache = list(data)
        self._sample_draws = 1
        return cache[random.randrange(len(cache))]

    def sample_expires(self, count: int) -> list[bytes]:
        """The next ``count`` keys with a TTL, walking ``expires`` round-robin.

        The walk is over a list of the keys taken when the previous pass ended (a C-speed copy,
        no shuffle), so a full pass visits every key that had a TTL when it began, like
        Redis's ``expires_cursor`` walk of the expires table; keys that lost their TTL are
        skipped by the caller.
        """
        expires = self.expires
        if not expires:
            return []
        if len(expires) <= count:
            return list(expires)
        cache = self._expire_keys_cache
        if cache is None or self.expires_cursor >= len(cache) or len(cache) > 2 * len(expires) + 64:
            cache = self._expire_keys_cache = list(expires)
            self.expires_cursor = 0
        start = self.expires_cursor
        out = cache[start : start + count]
        self.expires_cursor = start + count
        return out


# ---------------------------------------------------------------------- access tracking


def sync_access_tracking(db: Database, policy: str) -> None:
    """Start or stop access tracking on ``db`` for ``maxmemory-policy`` = ``policy``."""
    lfu = policy in LFU_POLICIES
    if policy in LRU_POLICIES or lfu:
        if db.access is None or db.lfu != lfu:
            # Existing keys start as fresh (Redis also mixes LRU/LFU data after a switch).
            db.access = {}
        db.lfu = lfu
    else:
        db.access = None
        db.lfu = False


def _policy_changed(server: Server, policy: str) -> None:
    for db in server.dbs:
        sync_access_tracking(db, policy)


def _lru_clock(now_ms: int) -> int:
    c = now_ms // 1000
    if c == _clock_cache[0]:
        return _clock_cache[0]
    _clock_cache[0] = c
    return c


def _lfu_minutes(server: Server) -> int:
    return (server.cmd_time_ms // 60000) & 65535


def _lfu_decr(server: Server, packed: int) -> int:
    """Redis's ``LFUDecrAndReturn``: the counter after the decay periods elapsed."""
    ldt = packed >> 8
    counter = packed & 255
    decay = server.config["lfu-decay-time"]
    if decay:
        now = _lfu_minutes(server)
        elapsed = now - ldt if now >= ldt else 65535 - ldt + now
        periods = elapsed // decay
        if periods:
            counter = 0 if periods > counter else counter - periods
    return counter


def _lfu_touch(server: Server, packed: int | None) -> int:
    """Redis's ``updateLFU``: decay, then a logarithmic probabilistic increment."""
    minutes = _lfu_minutes(server)
    counter = LFU_INIT_VAL if packed is None else _lfu_decr(server, packed)
    if counter < 255:
        base = counter - LFU_INIT_VAL
        if base < 0:
            base = 0
        if random.random() < 1.0 / (base * server.config["lfu-log-factor"] + 1):
            counter += 1
    return (minutes << 8) | counter


def shares_integer(value: Any, config: Any) -> bool:
    """Whether Redis would store ``value`` as one of its shared integers (OBJECT REFCOUNT).

    ``tryObjectEncoding`` shares 0..9999 unless maxmemory is set with an LRU/LFU policy (which
    needs per-object metadata).
    """
    if type(value) is not bytes or len(value) > 4:
        return False
    policy = config["maxmemory-policy"]
    if config["maxmemory"] and (policy in LRU_POLICIES or policy in LFU_POLICIES):
        return False
    v = string2ll(value)
    return v is not None and 0 <= v < OBJ_SHARED_INTEGERS


# ---------------------------------------------------------------------- active expiry

CRON_DBS_PER_CALL: Final = 16
ACTIVE_EXPIRE_CYCLE_FAST_DURATION: Final = 1000  # microseconds
ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC: Final = 25  # max % of CPU


class ActiveExpire:
    """Redis's ``activeExpireCycle``: sampled, time-budgeted reclaiming of expired keys.

    Per call (the *slow* cycle from the cron, ``hz`` times a second, or the *fast* one from
    before-sleep), up to 16 databases are visited round-robin, continuing where the previous
    call stopped.  In each, batches of ``20 + 5 * (effort - 1)`` keys with a TTL are sampled
    (walking the expires round-robin, see ``Database.sample_expires``) and the expired ones
    deleted; another batch follows while more than ``10 - (effort - 1)`` percent of a batch was
    stale.  The time limit is ``(25 + 2 * (effort - 1))`` percent of a cron period for the slow
    cycle and ``1000 + 250 * (effort - 1)`` microseconds for the fast one, checked every 16
    batches as Redis does.  The fast cycle only runs when the last cycle hit its limit or the
    stale estimate is above the acceptable level, and at most every two fast durations.

    Stats kept as Redis keeps them: ``expired_keys`` (in ``Server.expire_key``),
    ``expired_stale_perc`` (a 5% moving average of the percentage expired/sampled per cycle),
    ``expired_time_cap_reached_count``, each db's ``avg_ttl`` (a moving average of the sampled
    TTLs), ``time_used_us`` (INFO's ``expire_cycle_cpu_milliseconds``), and the
    ``expire-cycle`` latency event.
    """

    __slots__ = ("server", "current_db", "timelimit_exit", "last_fast_cycle", "time_used_us")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.current_db = 0
        self.timelimit_exit = False
        self.last_fast_cycle = 0.0
        self.time_used_us = 0

    def run_fast(self) -> None:
        """before_sleep's fast cycle, which runs every loop turn: ``run`` returns at once
        unless the last cycle hit its time limit or the stale estimate reaches 100% (its test
        below, with an acceptable level of at least 1), so check that first."""
        if self.timelimit_exit or self.server.stats.expired_stale_perc >= 100:
            self.run(fast=True)

    def run(self, fast: bool = False) -> None:
        server = self.server
        if server.is_replica or not server.active_expire_enabled:
            return
        if server.paused_until and server.clock() < server.paused_until:
            return  # CLIENT PAUSE (ALL or WRITE) pauses expiry too
        stats = server.stats
        effort = server.config["active-expire-effort"] - 1
        per_loop = ACTIVE_EXPIRE_KEYS_PER_LOOP + ACTIVE_EXPIRE_KEYS_PER_LOOP // 4 * effort
        fast_duration = ACTIVE_EXPIRE_CYCLE_FAST_DURATION + ACTIVE_EXPIRE_CYCLE_FAST_DURATION // 4 * effort
        slow_perc = ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC + 2 * effort
        acceptable_stale = ACTIVE_EXPIRE_ACCEPTABLE_STALE - effort
        start = time.perf_counter()
        if fast:
            # Redis compares its stale *fraction* with a percentage here, so in effect the
            # fast cycle runs only after a slow cycle ran out of time; kept as is.
            if not self.timelimit_exit and stats.expired_stale_perc / 100 < acceptable_stale:
                return
            if start < self.last_fast_cycle + fast_duration * 2 / 1e6:
                return
            self.last_fast_cycle = start
            timelimit = fast_duration
        else:
            hz = max(1, min(500, server.config["hz"]))
            timelimit = max(1, slow_perc * 1_000_000 // hz // 100)
        dbs = server.dbs
        dbs_per_call = CRON_DBS_PER_CALL
        if dbs_per_call > len(dbs) or self.timelimit_exit:
            dbs_per_call = len(dbs)
        self.timelimit_exit = False
        deadline = start + timelimit / 1e6
        now = server.now_ms()  # the cron and before-sleep run between commands
        total_sampled = total_expired = 0
        iteration = 0
        expire_key = server.expire_key
        for _ in range(dbs_per_call):
            if self.timelimit_exit:
                break
            db = dbs[self.current_db % len(dbs)]
            self.current_db += 1
            while True:
                iteration += 1
                expires = db.expires
                if not expires:
                    db.avg_ttl = 0
                    break
                expired = sampled = 0
                ttl_sum = ttl_samples = 0
                access = db.access
                for key in db.sample_expires(per_loop):
                    when = expires.get(key)
                    if when is None:
                        continue  # deleted or persisted since the walk began
                    sampled += 1
                    if when <= now:
                        if expire_key(db, key):
                            expired += 1
                            if access is not None:
                                access.pop(key, None)
                    else:
                        ttl_sum += when - now
                        ttl_samples += 1
                total_expired += expired
                total_sampled += sampled
                if ttl_samples:
                    avg = ttl_sum // ttl_samples
                    if db.avg_ttl == 0:
                        db.avg_ttl = avg
                    db.avg_ttl = (db.avg_ttl // 50) * 49 + avg // 50
                if (iteration & 0xF) == 0 and time.perf_counter() > deadline:
                    self.timelimit_exit = True
                    stats.expired_time_cap_reached_count += 1
                    break
                if sampled and expired * 100 // sampled <= acceptable_stale:
                    break
        elapsed_us = int((time.perf_counter() - start) * 1e6)
        self.time_used_us += elapsed_us
        threshold = server.config["latency-monitor-threshold"]
        if threshold and elapsed_us // 1000 >= threshold:
            server.latency.add_sample("expire-cycle", elapsed_us // 1000)
        # Kept as a percentage (INFO prints it as is); Redis keeps the fraction and scales.
        current = total_expired * 100 / total_sampled if total_sampled else 0.0
        stats.expired_stale_perc = current * 0.05 + stats.expired_stale_perc * 0.95


def active_expire(server: Server) -> ActiveExpire:
    """The server's expiry-cycle state, created on first use (and its fast cycle hooked)."""
    cycle = server.extensions.get("active_expire")
    if cycle is None:
        cycle = server.extensions["active_expire"] = ActiveExpire(server)
        server.before_sleep_hooks.append(cycle.run_fast)
    return cycle  # type: ignore[no-any-return]
