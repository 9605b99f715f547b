"""A recorded drive as the car: ``--log FILE`` for ``monitor``, ``ask`` and ``chat``.

Any log python-can reads (candump ``.log``, ``.asc``, ``.blf``, ``.csv``, ``.trc``, ...) is read
with ``can.LogReader`` into the same :class:`~assistant.can.reader.FrameDecoder` and
:class:`~assistant.state.store.VehicleState` a live bus feeds, with no bus and no kernel module
in between. Time is the recording's own: the decoder runs with ``timing="message"`` and the
state's clock returns the recording's "now", so ages and staleness are what they were at that
moment of the drive.

* ``at=SECONDS`` (``ask --at``): the frames up to that time into the recording are decoded and
  the clock stops there; the answer is about the car at that moment.
* otherwise the recording plays in a thread at ``speed`` times real time (``monitor``,
  ``chat``); after the last frame the clock runs on, so values age and go stale as they would
  on a bus that fell silent.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import can

from assistant.can.profile import VehicleProfile, load_profile
from assistant.can.reader import FrameDecoder
from assistant.errors import UserError
from assistant.state.store import VehicleState

log = logging.getLogger(__name__)

LOG_FORMATS = ".asc .blf .csv .db .log .mf4 .trc"


class RecordingError(UserError):
    """A log that cannot be read, or a time outside it."""


def _open(path: Path):
    if not path.is_file():
        raise RecordingError(f"{path}: no such log file")
    try:
        return can.LogReader(str(path))
    except (ValueError, NotImplementedError) as e:
        raise RecordingError(f"{path}: cannot read this log format ({e}); python-can reads {LOG_FORMATS}") from None
    except OSError as e:
        raise RecordingError(f"{path}: cannot read: {e.strerror or e}") from None


def _frames(path: Path):
    """The log's frames, with a clear error naming the file if it breaks off."""
    reader = _open(path)
    n = 0
    with reader:
        it = iter(reader)
        while True:
            try:
                msg = next(it)
            except StopIteration:
                return
            except Exception as e:  # noqa: BLE001 - python-can's readers raise many kinds on bad lines
                raise RecordingError(f"{path}: malformed log after {n} frames: {type(e).__name__}: {e}") from None
            n += 1
            yield msg


class _Source:
    """What ``monitor`` shows as the bus: the log and the moment in it."""

    def __init__(self, rec: "RecordedVehicle"):
        self._rec = rec

    def describe(self) -> str:
        r = self._rec
        of = f" of {r.duration:.1f} s" if r.duration is not None else ""
        return f"log {r.path.name} at {r.position():.1f} s{of}"


class _Reader:
    """The reader-shaped face of a recording (counters, connected, alive) for monitor/serve code."""

    def __init__(self, rec: "RecordedVehicle"):
        self._rec = rec
        self.connected = threading.Event()
        self.last_error: str | None = None

    @property
    def counts(self):
        return self._rec.decoder.counts

    @property
    def alive(self) -> bool:
        t = self._rec._thread
        return t is None or t.is_alive()


class RecordedVehicle:
    """``at``: seconds into the recording, or ``"end"`` (its last frame); None plays it."""

    def __init__(self, path: str | Path, profile: str | Path | VehicleProfile = "demo", *,
                 at: float | str | None = None, speed: float = 1.0):
        self.path = Path(path)
        if at is not None and at != "end" and not (0 <= at < 1e7):
            raise RecordingError(f"--at {at:g}: give the seconds into the recording (0 or more)")
        if not (0 < speed <= 1000):
            raise RecordingError(f"--speed {speed:g}: must be more than 0 and at most 1000")
        self.profile = profile if isinstance(profile, VehicleProfile) else load_profile(profile)
        self.at, self.speed = at, speed
        first = next(_frames(self.path), None)       # the start of the recording: one frame read
        if first is None:
            raise RecordingError(f"{self.path}: no frames in this log")
        self.first_ts = first.timestamp
        self.duration: float | None = None            # known once the log has been read to its end
        self._now = self.first_ts if at in (None, "end") else self.first_ts + at
        self._t_start: float | None = None
        self.state = VehicleState.for_profile(self.profile, clock=self.clock)
        self.decoder = FrameDecoder(self.profile, self.state, timing="message")
        self.reader = _Reader(self)
        self.cfg = _Source(self)
        self.scenario = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the recording's clock ----------------------------------------------------------------

    def clock(self) -> float:
        """The recording's "now": fixed with ``at``, else running at ``speed`` from start()."""
        if self.at is not None or self._t_start is None:
            return self._now
        return self.first_ts + (time.monotonic() - self._t_start) * self.speed

    def position(self) -> float:
        return self.clock() - self.first_ts

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, wait: float = 0.0) -> "RecordedVehicle":
        self.reader.connected.set()
        if self.at is not None:          # one pass: the frames up to that moment go in, the rest is timed
            end = None if self.at == "end" else self.first_ts + self.at
            last = [self.first_ts]

            def up_to_end():             # the whole file is read: its length is the last timestamp
                for msg in _frames(self.path):
                    if msg.timestamp > last[0]:
                        last[0] = msg.timestamp
                    if end is None or msg.timestamp <= end:
                        yield msg
            self.decoder.feed(up_to_end())
            last = last[0]
            self.duration = last - self.first_ts
            if end is None:
                self._now = last
            elif self.at > self.duration:
                raise RecordingError(f"--at {self.at:g} s is past the end of {self.path} "
                                     f"({self.duration:.1f} s long)")
            return self
        self._t_start = time.monotonic()
        self._thread = threading.Thread(target=self._play, name=f"log-{self.path.name}", daemon=True)
        self._thread.start()
        if wait:                     # until every signal the profile maps has come once, at most `wait` s
            self.wait_for(self.state.capabilities, wait)
        return self

    def _play(self) -> None:
        last = self.first_ts
        try:
            for msg in _frames(self.path):
                if self._stop.is_set():
                    return
                delay = (msg.timestamp - self.clock()) / self.speed
                if delay > 0 and self._stop.wait(delay):
                    return
                self.decoder.on_message_received(msg)
                last = msg.timestamp
            self.duration = last - self.first_ts
            self.reader.last_error = "end of the recording"
        except RecordingError as e:
            self.reader.last_error = str(e)
            log.error("%s", e)
        finally:
            self.reader.connected.clear()

    def wait_for(self, names, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        names = list(names)
        while time.monotonic() < deadline:
            if all(self.state.get(n).status != "missing" for n in names):
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2.0)

    def __enter__(self) -> "RecordedVehicle":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
