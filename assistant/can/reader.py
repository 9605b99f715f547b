"""Bus reader: CAN frames -> cantools decode -> canonical values -> VehicleState.

Two parts, one job each:

* :class:`FrameDecoder` is a ``can.Listener``: give it frames (from a ``can.Notifier``, a
  ``can.LogReader`` or a test) and it updates the state. Bad frames (unknown id, error or
  remote frame, wrong DLC, undecodable mux, older than the last one of their id, value
  outside the map or its range) are counted and logged at a bounded rate; no exception
  escapes.
* :class:`BusReader` owns the bus: opens it with receive filters limited to the mapped ids,
  runs a ``can.Notifier`` with the decoder, and when the bus errors or the interface vanishes
  keeps the last state (now aging), retries with backoff and recovers when it returns.
  Because of those filters, frames with unmapped ids never reach the decoder on a live bus
  (the kernel drops them on socketcan, python-can's ``recv`` on other interfaces): there
  ``unknown_id`` stays 0 and only frames fed to the decoder directly (a log read with
  ``can.LogReader``, a test) are counted.

Time: a value's age is measured from when its frame *arrived*, on the state's own clock
(``VehicleState.clock``, monotonic), never from the timestamp the frame carries (another
machine's, an interface's or a log's clock). The frame's own timestamp is used only to keep
each frame id in order (see ``out_of_order``) and for display and history.

The reader never transmits: it only calls ``recv`` through the Notifier.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Callable, Iterable

import can

from assistant.can.bus import BusConfig, BusOpenError, open_bus
from assistant.can.codec import NOT_AVAILABLE, OUT_OF_RANGE, MessageCodec
from assistant.can.profile import VehicleProfile
from assistant.state import dtc
from assistant.state.store import VehicleState

log = logging.getLogger(__name__)


class RateLimitedLog:
    """Log a kind of problem at most once per ``interval`` seconds, with the count suppressed."""

    def __init__(self, logger: logging.Logger, interval: float = 5.0):
        self._log = logger
        self._interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: Counter = Counter()

    def __call__(self, kind: str, msg: str, *args, counted: bool = False) -> bool:
        """Log now if this kind's interval has passed (True), else count it as suppressed.
        ``counted``: the message carries its own running total (callers that sample, so the
        number of calls here is not the number of frames), so no "+N more" is added."""
        now = time.monotonic()
        if now - self._last.get(kind, -1e18) >= self._interval:
            n = self._suppressed.pop(kind, 0)
            more = f" (+{n} more since last report)" if n and not counted else ""
            self._log.warning(msg + more, *args)
            self._last[kind] = now
            return True
        self._suppressed[kind] += 1
        return False


class _DtcCycle:
    """Collection state of one multiplexed DTC message (see :meth:`FrameDecoder._dtc_frame`)."""

    __slots__ = ("count", "codes", "last_cycle", "published", "current")

    def __init__(self) -> None:
        self.count = -1                          # count of the cycle being collected; -1: none
        self.codes: list[str] = []               # its slots 0 .. len-1, in order
        self.last_cycle: list[str] | None = None  # the last complete cycle seen
        self.published: list[str] | None = None   # the list in the state
        self.current = False                     # every frame since publishing agreed with it


_MEMO_MAX = 4096      # values remembered per signal (see FrameDecoder._entries)


class FrameDecoder(can.Listener):
    """Decode the frames of one vehicle profile into a VehicleState.

    What happens to each kind of frame (``counts`` has one counter per kind):

    * error frame, remote frame (whatever the id): ``error_or_remote``, skipped;
    * id not in the profile, or right id with the wrong standard/extended flag:
      ``unknown_id``, skipped;
    * fewer data bytes than the DBC length: ``short_dlc``, skipped (the signals are not all
      there);
    * more data bytes than the DBC length: ``long_dlc``, **decoded** from the first DBC-length
      bytes (cantools ignores the rest). Senders that pad to 8 bytes, or send a CAN FD frame
      for a classic message, are common and their signals are where the DBC says; the counter
      and the log line tell the bench engineer that the DBC and the bus disagree;
    * its own timestamp is older than that of the last frame accepted with its id, which
      arrived less than the message's ``stale_after`` ago: ``out_of_order``, skipped (an
      older frame never replaces a newer value). Once that much time has passed the
      timestamps going back are taken for a restarted sender clock (interface reopened,
      recording looped) and the frame is accepted, with a log line. Frames without a
      timestamp (0) are never reordered;
    * cantools cannot decode it (unknown multiplexer value, ...): ``undecodable``, skipped;
    * a DTC count the message cannot hold, or a DTC slot beyond the count: ``bad_value``.

    Per signal (not per frame): a value outside its DBC signal's minimum/maximum or outside
    what its canonical unit allows (``PHYSICAL_LIMITS`` in ``assistant/can/profile.py``: a %
    above 100, a negative pressure, ...) is counted in ``out_of_range`` and stored as "not
    available": the state reports the signal ``unavailable``, never the impossible value.
    (A raw value a telltale/bool value table does not list is "not available" too, uncounted.)

    ``timing``: ``"arrival"`` (default, live buses) stamps each frame with the state's clock
    as it arrives. ``"message"`` takes the frame's own timestamp as its arrival time: for
    feeding a recording straight into a state whose clock runs on log time (the recorder's
    receive times are the log's timestamps), e.g. ``VehicleState.for_profile(p, clock=lambda:
    t_log)`` or ``snapshot(now=t_log)``. There a frame going back less than ``stale_after`` is
    out of order, and a bigger jump back is a restarted recording (logs joined or looped).

    Decoding: a message that is not multiplexed decodes only the signals the profile maps, to
    their raw values (:meth:`MessageCodec.mapped_decoder`, cantools' compiled formats), then
    each raw value goes through the signal's cantools conversion and the mapping's ``decode``,
    once per distinct raw value (a per-signal memo: a speed or a door bit takes few values in a
    drive); the others (DTC reports, multiplexed messages) go through ``Message.decode``.

    Payload cache: a frame whose bytes equal those of the last frame decoded with its id skips
    the cantools decode and the conversions and reuses their values ("not available" included);
    every other step (order check, times, ``last_good``, history, counters, out-of-range count
    and log) runs as for a decoded frame. DTC messages are never cached. ``cache_hits`` counts
    the frames that took it; ``reset_order`` clears it.

    Each kind is logged at most once per ``log_interval`` seconds with the number suppressed.
    For unknown ids and error/remote frames, which can be most of a real bus's traffic, the
    frame path only bumps a counter and compares it with the next frame number at which
    the rate limiter is asked again (that number moves further out, up to 4096 frames, while
    the limiter keeps saying "not yet").
    """

    COUNTERS = ("frames", "decoded", "unknown_id", "short_dlc", "long_dlc", "undecodable",
                "error_or_remote", "out_of_order", "bad_value", "out_of_range", "bus_errors")
    _MAX_LOG_STEP = 4096

    def __init__(self, profile: VehicleProfile, state: VehicleState, log_interval: float = 5.0,
                 *, timing: str = "arrival"):
        if timing not in ("arrival", "message"):
            raise ValueError(f"timing must be 'arrival' or 'message', not {timing!r}")
        self.profile = profile
        self.state = state
        self.timing = timing
        self._message_time = timing == "message"
        self._clock = state.clock
        for c in self.COUNTERS:
            if c != "frames":                    # n_frames is the sum of the outcomes (a property)
                setattr(self, "n_" + c, 0)
        self.n_cantools_decodes = 0              # decoded frames that went through cantools (cache misses)
        self._dtc: dict[int, _DtcCycle] = {fid: _DtcCycle() for fid, c in profile.codecs.items()
                                           if c.dtc is not None}
        self._warn = RateLimitedLog(log, log_interval)
        self._lock, self._latest, self._record_history, self._last_good = state.frame_writer()
        self._history_interval = state.history_interval
        # Counter values at which unknown-id / error-remote frames next ask the rate limiter.
        self._due_unknown_id = self._due_error_or_remote = 1
        self._step_unknown_id = self._step_error_or_remote = 1
        self._sources = {m.canonical: f"{m.message.name}.{m.signal}" for m in profile.mappings.values()}
        # Per frame id: [own timestamp, arrival time] of the last frame accepted (see
        # out_of_order), own timestamp of the last one that went into the state's history.
        self._order = {fid: [float("-inf"), float("-inf"), float("-inf")] for fid in profile.codecs}
        # Per frame id, everything the hot path needs, resolved once (no attribute look-ups per frame).
        # Per frame id, the payload cache (size 1): [bytes of the last frame decoded, its
        # ((canonical, value, source), ...), its out-of-range (canonical, raw) list or None,
        # whether any value is "not available"]. Never filled for a DTC message (see `_cache`).
        self._cache = {fid: [None, (), None, False] for fid in profile.codecs}
        mapped = {fid: c.mapped_decoder() for fid, c in profile.codecs.items()}
        self._plan = {
            fid: (c.message, c.message.is_extended_frame, c.message.length,
                  self._entries(c, raw=mapped[fid] is not None), c,
                  self._order[fid], tuple(m.canonical for m in c.mappings),
                  min(m.stale_after for m in c.mappings + ([c.dtc] if c.dtc else [])),
                  self._cache[fid], c.dtc is None, mapped[fid])
            for fid, c in profile.codecs.items()}

    def _entries(self, codec: MessageCodec, raw: bool) -> tuple:
        """Per mapped signal of one frame id: (DBC signal, canonical, Mapping.decode, source, memo,
        raw -> physical). A message decoded by ``mapped_decoder`` gives raw values, scaled here
        with the signal's own cantools conversion; one decoded by ``Message.decode`` gives
        physical values (raw -> physical is None). ``memo`` maps a value seen before to its
        canonical value (a decode is a function of the value), up to ``_MEMO_MAX`` values."""
        return tuple((m.signal, m.canonical, m.decode, self._sources[m.canonical], {},
                      m.message.get_signal_by_name(m.signal).conversion.raw_to_scaled if raw else None)
                     for m in codec.mappings)

    def reset_order(self) -> None:
        """Forget the last timestamp of every id (a new bus session may restart its clock)."""
        for o in self._order.values():
            o[0] = o[1] = o[2] = float("-inf")
        self.clear_cache()

    def clear_cache(self) -> None:
        """Forget the last payload of every id: the next frame of each id goes through cantools."""
        for c in self._cache.values():
            c[0], c[1], c[2], c[3] = None, (), None, False

    @property
    def n_frames(self) -> int:
        """Frames received: every frame ends in exactly one of these counters (``long_dlc`` frames
        are decoded too, ``bad_value``/``out_of_range`` count values of decoded frames)."""
        return (self.n_decoded + self.n_unknown_id + self.n_error_or_remote + self.n_short_dlc
                + self.n_out_of_order + self.n_undecodable)

    @property
    def cache_hits(self) -> int:
        """Decoded frames whose payload repeated the last one of their id (no cantools call)."""
        return self.n_decoded - self.n_cantools_decodes

    @property
    def counts(self) -> Counter:
        return Counter({c: getattr(self, "n_" + c) for c in self.COUNTERS if getattr(self, "n_" + c)})

    # The hot path: keep it flat.
    def on_message_received(self, msg: can.Message) -> None:
        plan = self._plan.get(msg.arbitration_id)
        if plan is None:                         # most of a logged real bus: only a counter
            if msg.is_error_frame or msg.is_remote_frame:    # whatever their id (often 0)
                self._error_or_remote(msg)
                return
            self.n_unknown_id += 1
            if self.n_unknown_id >= self._due_unknown_id:
                self._log_skipped("unknown_id", msg)
            return
        if msg.is_error_frame or msg.is_remote_frame:
            self._error_or_remote(msg)
            return
        message, extended, length, entries, codec, order, names, hold, cache, cacheable, mapped = plan
        if extended != msg.is_extended_id:
            self.n_unknown_id += 1
            if self.n_unknown_id >= self._due_unknown_id:
                self._log_skipped("unknown_id", msg)
            return
        data = msg.data
        if len(data) != length:
            if len(data) < length:
                self.n_short_dlc += 1
                self._warn("short_dlc", "frame 0x%X (%s): %d data bytes, DBC says %d; skipped",
                           msg.arbitration_id, message.name, len(data), length)
                return
            self.n_long_dlc += 1
            self._warn("long_dlc", "frame 0x%X (%s): %d data bytes, DBC says %d; decoded from the "
                       "first %d", msg.arbitration_id, message.name, len(data), length, length)
        stamp = msg.timestamp
        now = stamp if self._message_time else self._clock()
        # Older than the last frame of this id, which arrived within `hold`: out of order.
        if stamp < order[0] and stamp and -hold < now - order[1] < hold:
            self._out_of_order(msg, message, order)
            return
        if data == cache[0]:
            # Same bytes as the last frame decoded with this id: same values (a decode is a
            # function of the bytes; a multiplexed message's mux value is in them). Only the
            # times below are new. DTC messages are never cached (their cycle needs each frame).
            vals, bad, na = cache[1], cache[2], cache[3]
        else:
            try:
                decoded = mapped(data) if mapped is not None else message.decode(data, decode_choices=False)
            except Exception as e:  # cantools raises DecodeError, ValueError, KeyError on garbage
                self.n_undecodable += 1
                self._warn("undecodable", "frame 0x%X (%s) could not be decoded: %s; skipped",
                           msg.arbitration_id, message.name, e)
                return
            self.n_cantools_decodes += 1
            bad = None
            na = False
            vals = []
            for sig, canonical, dec, source, memo, to_phys in entries:
                r = decoded.get(sig)
                if r is not None:
                    c = memo.get(r)
                    if c is None:        # a value not seen yet: cantools' scaling, then the mapping
                        c = dec(r if to_phys is None else to_phys(r, False))
                        if len(memo) < _MEMO_MAX:
                            memo[r] = c
                    if c is OUT_OF_RANGE or c is NOT_AVAILABLE:      # rare: kept off the common path
                        na = True
                        if c is OUT_OF_RANGE:
                            bad = (bad or []) + [(canonical, r if to_phys is None else to_phys(r, False))]
                            c = NOT_AVAILABLE
                    vals.append((canonical, c, source))
            if cacheable:
                cache[0], cache[1], cache[2], cache[3] = bytes(data), vals, bad, na
        self.n_decoded += 1
        if stamp:
            if stamp < order[0]:
                self._clock_went_back(msg, message, order)
            order[0] = stamp
            order[1] = now
        else:                    # an unstamped frame (never reordered): display the wall clock
            stamp = time.time()
        latest = self._latest
        lock = self._lock
        lock.acquire()                 # not `with`: a third cheaper, and this runs per frame
        try:
            if na:                     # "not available" replacing a real value keeps it as last good
                last_good = self._last_good
                for canonical, c, source in vals:
                    if c is NOT_AVAILABLE:
                        prev = latest.get(canonical)
                        if prev is not None and prev[0] is not NOT_AVAILABLE:
                            last_good[canonical] = (prev[0], prev[1])
                    latest[canonical] = (c, now, source, stamp)
            else:
                for canonical, c, source in vals:
                    latest[canonical] = (c, now, source, stamp)
            if names:
                self.state.updates += len(names)
                h = order[2]
                if stamp - h >= self._history_interval or stamp < h:
                    order[2] = stamp
                    self._record_history(names, stamp)
        finally:
            lock.release()
        if bad is not None:            # counted again on every repeat, as without the cache
            self._out_of_range(bad)
        if not cacheable:
            self._dtc_frame(codec, decoded, now, stamp)

    def feed(self, frames: Iterable[can.Message]) -> None:
        """Decode a batch of frames (a recording read with ``can.LogReader``): the same outcome,
        counters and logging as calling :meth:`on_message_received` for each frame.

        On a live bus the receive filters keep unmapped ids away from the decoder, but a real
        recording is mostly ids the profile does not map (95 % of the RAV4 log); here they cost
        one dict look-up and a counter in this loop instead of a method call each
        (``bench/can_ingest.py``: the RAV4 rows).
        """
        plan = self._plan
        on = self.on_message_received
        unknown = 0
        left = self._due_unknown_id - self.n_unknown_id    # frames until the rate limiter is asked
        for msg in frames:
            if msg.arbitration_id in plan or msg.is_error_frame or msg.is_remote_frame:
                on(msg)
            else:
                unknown += 1
                if unknown >= left:
                    self.n_unknown_id += unknown
                    unknown = 0
                    self._log_skipped("unknown_id", msg)
                    left = self._due_unknown_id - self.n_unknown_id
        self.n_unknown_id += unknown

    def _error_or_remote(self, msg: can.Message) -> None:
        self.n_error_or_remote += 1
        if self.n_error_or_remote >= self._due_error_or_remote:
            self._log_skipped("error_or_remote", msg)

    def _out_of_order(self, msg: can.Message, message, order: list[float]) -> None:
        self.n_out_of_order += 1
        self._warn("out_of_order", "frame 0x%X (%s) stamped %.6f, %.6f s before the last one of its id; "
                   "skipped (%d out-of-order frames so far)", msg.arbitration_id, message.name,
                   msg.timestamp, order[0] - msg.timestamp, self.n_out_of_order, counted=True)

    def _clock_went_back(self, msg: can.Message, message, order: list[float]) -> None:
        self._warn("clock_went_back", "frame 0x%X (%s): timestamp %.3f s before the last one of its id, "
                   "which arrived over its stale_after ago: taken as a restarted sender clock, accepted",
                   msg.arbitration_id, message.name, order[0] - msg.timestamp)

    def _out_of_range(self, bad: list[tuple[str, object]]) -> None:
        """Cold path: values outside their signal's range, stored as "not available"."""
        for canonical, v in bad:
            self.n_out_of_range += 1
            m = self.profile.mappings[canonical]
            self._warn(f"out_of_range {canonical}", "%s; reported unavailable (%d out-of-range values so far)",
                       m.describe_out_of_range(v), self.n_out_of_range, counted=True)

    def _log_skipped(self, kind: str, msg: can.Message) -> None:
        """Cold path: an unknown-id or error/remote frame whose counter reached its due mark."""
        n = getattr(self, "n_" + kind)
        if kind == "unknown_id":
            what = (f"frame 0x{msg.arbitration_id:X} ({'extended' if msg.is_extended_id else 'standard'} id): "
                    f"not an id of profile {self.profile.name}; skipped")
        else:
            what = f"{'error' if msg.is_error_frame else 'remote'} frame 0x{msg.arbitration_id:X}; skipped"
        logged = self._warn(kind, "%s (%d such frames so far)", what, n, counted=True)
        step = 1 if logged else min(getattr(self, "_step_" + kind) * 2, self._MAX_LOG_STEP)
        setattr(self, "_step_" + kind, step)
        setattr(self, "_due_" + kind, n + step)

    def _dtc_frame(self, codec: MessageCodec, decoded: dict, t: float, stamp: float) -> None:
        """One frame of a multiplexed DTC message: ``count`` codes, one slot per frame.

        A list is only ever built from one cycle: slots 0, 1, ..., count-1 received in that
        order with the same count. Slot 0 starts a new cycle; a count change or a slot out of
        sequence drops the cycle being collected. Even so, one cycle can straddle two lists of
        the same length: python-can's periodic tasks keep their frame index when the
        simulator (or any sender) changes the data, so a cycle may begin with the old list and
        end with the new one. Hence:

        * an empty list or a single code (one self-contained frame) is published at once;
        * the first complete cycle after start (or after "not available") is published;
        * a complete cycle that differs from the published list is published only when the
          cycle before it was the same list (two cycles agree); until then the state keeps
          the published list, no longer refreshed, so it ages and turns stale if the new one
          takes too long.

        Between cycles each frame that agrees with the published list (same count, same code
        in its slot) refreshes it; after the first one that does not, it is no longer
        refreshed until a complete cycle is published again.
        """
        d = codec.dtc
        c = self._dtc[codec.message.frame_id]
        source = self._sources[d.canonical]
        count = d.decode(decoded.get(d.signal))
        if count is NOT_AVAILABLE:
            c.count, c.codes, c.last_cycle, c.published, c.current = -1, [], None, None, False
            self.state.update(d.canonical, count, t, source, stamp)
            return
        if count == 0:                           # self-contained: "no codes stored"
            c.count, c.codes = -1, []
            self._dtc_publish(c, [], d.canonical, t, source, stamp)
            return
        slot = code = None
        for k, item in enumerate(d.items):
            raw = decoded.get(item)
            if raw is not None:
                slot, code = k, dtc.decode(raw)
                break
        if count > len(d.items) or slot is None or slot >= count:
            self.n_bad_value += 1
            self._warn("bad_value", "%s: DTC count %d with slot %s (message has %d slots); skipped",
                       codec.message.name, count, slot, len(d.items))
            c.count, c.codes, c.current = -1, [], False
            return
        pub = c.published
        if c.current and (len(pub) != count or pub[slot] != code):
            c.current = False
        if slot == 0:
            c.count, c.codes = count, [code]
        elif c.count == count and slot == len(c.codes):
            c.codes.append(code)
        else:                                    # joined mid-cycle, lost a slot or count changed
            c.count, c.codes = -1, []
        if c.count == count and len(c.codes) == count:
            cycle = c.codes
            c.count, c.codes = -1, []
            confirmed = pub is None or count == 1 or cycle == pub or cycle == c.last_cycle
            c.last_cycle = cycle
            if confirmed:
                self._dtc_publish(c, cycle, d.canonical, t, source, stamp)
                return
        if c.current:
            self.state.update(d.canonical, pub, t, source, stamp)

    def _dtc_publish(self, c: _DtcCycle, codes: list[str], canonical: str, t: float, source: str,
                     stamp: float) -> None:
        c.published = c.last_cycle = codes
        c.current = True
        self.state.update(canonical, c.published, t, source, stamp)

    def on_error(self, exc: Exception) -> None:  # called by can.Notifier
        self.n_bus_errors += 1


class BusReader:
    """Read a live bus into a VehicleState, reconnecting with backoff. Never transmits."""

    def __init__(self, cfg: BusConfig, profile: VehicleProfile, state: VehicleState,
                 *, backoff_initial: float = 0.5, backoff_max: float = 10.0,
                 on_status: Callable[[str], None] | None = None):
        self.cfg = cfg
        self.profile = profile
        self.state = state
        self.decoder = FrameDecoder(profile, state)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.connected = threading.Event()
        self.reconnects = 0
        self.last_error: str | None = None
        self.bus: can.BusABC | None = None      # the bus currently open (None while reconnecting)
        self._on_status = on_status or (lambda s: log.info("%s", s))
        self._stop = threading.Event()
        self._failed = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def counts(self) -> Counter:
        return self.decoder.counts

    @property
    def alive(self) -> bool:
        """Whether the reader thread is running (started, not yet ended)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "BusReader":
        self._thread = threading.Thread(target=self._run, name=f"bus-reader-{self.cfg.channel}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._failed.set()
        if self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> "BusReader":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        delay = self.backoff_initial
        while not self._stop.is_set():
            try:
                bus = open_bus(self.cfg, can_filters=self.profile.can_filters())
            except BusOpenError as e:
                self.last_error = str(e)
                self._on_status(f"{e}; retrying in {delay:.1f} s")
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            self.bus = bus
            self._failed.clear()
            self.decoder.reset_order()          # a reopened interface may restart its clock
            watcher = _ErrorWatcher(self)
            notifier = can.Notifier(bus, [self.decoder, watcher], timeout=0.2)
            self.connected.set()
            self._on_status(f"reading {self.cfg.describe()} ({self.profile.name})")
            delay = self.backoff_initial
            self._failed.wait()
            self.connected.clear()
            self.bus = None
            notifier.stop(timeout=1.0)
            try:
                bus.shutdown()
            except Exception:  # the interface may already be gone
                pass
            if not self._stop.is_set():
                self.reconnects += 1
                self._on_status(f"lost {self.cfg.describe()}: {self.last_error}; "
                                f"keeping last state, reconnecting in {delay:.1f} s")
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_max)


class _ErrorWatcher(can.Listener):
    """Tells the BusReader that the Notifier's bus raised, so it can reconnect."""

    def __init__(self, reader: BusReader):
        self.reader = reader

    def on_message_received(self, msg: can.Message) -> None:
        pass

    def on_error(self, exc: Exception) -> None:
        self.reader.last_error = f"{type(exc).__name__}: {exc}"
        self.reader._failed.set()
