"""The vehicle history on disk: one SQLite file (stdlib ``sqlite3``), written in WAL mode.

``$ASSISTANT_DATA_DIR/history.sqlite`` (see :func:`assistant.history.data_dir`). Three tables:

* ``signals(id, name)``: canonical signal names, so a sample row carries a small integer;
* ``samples(signal, t, value)``: one numeric reading, ``t`` in Unix seconds (wall clock: the
  history outlives the process and the boot, a monotonic clock does not), clustered on
  ``(signal, t)`` (``WITHOUT ROWID``): the detectors' query is "one signal over a time span";
* ``events(t, kind, name, value, text)``: engine start (``value`` = the voltage dip), engine
  stop, wake (``value`` = the resting 12 V voltage), lamp changes (``name`` the lamp, ``text``
  its state), indexed on ``(kind, t)``;
* ``meta(key, value)``: schema version, the findings already announced.

Power may go at any moment (a head unit): WAL with ``synchronous=NORMAL`` keeps the file
consistent after a kill or a power cut, losing at most the transactions since the last
checkpoint of the WAL to the OS (the recorder commits every few seconds). A file that does not
open as a database, or fails ``PRAGMA quick_check``, is renamed aside
(``history.sqlite.corrupt-<time>``), reported (:attr:`HistoryStore.problem`, a log warning) and
a fresh one is started: never a crash, and the assistant keeps answering from live data.

Size is bounded: rows older than ``retention_days`` are deleted, and past ``max_bytes`` the
oldest days go first (:meth:`HistoryStore.enforce_limits`, run on open and every hour of
writing).
"""

from __future__ import annotations

import csv
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_RETENTION_DAYS = 400
DAY = 86400.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS signals(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS samples(signal INTEGER NOT NULL, t REAL NOT NULL, value REAL NOT NULL,
                                   PRIMARY KEY (signal, t)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_t ON samples(t);
CREATE TABLE IF NOT EXISTS events(t REAL NOT NULL, kind TEXT NOT NULL, name TEXT, value REAL, text TEXT);
CREATE INDEX IF NOT EXISTS events_kind_t ON events(kind, t);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
"""

EVENT_KINDS = ("engine_start", "engine_stop", "wake", "lamp")


@dataclass(frozen=True)
class Event:
    t: float
    kind: str
    name: str | None = None
    value: float | None = None
    text: str | None = None


@dataclass(frozen=True)
class SignalSummary:
    name: str
    count: int
    first: float
    last: float


@dataclass(frozen=True)
class Summary:
    path: str
    size_bytes: int
    signals: list[SignalSummary]
    events: dict[str, int]
    first: float | None
    last: float | None

    @property
    def span_days(self) -> float:
        return 0.0 if self.first is None else (self.last - self.first) / DAY


class HistoryStore:
    """One history file. Thread-safe: one connection, one lock (the recorder writes from its
    thread, tools read from theirs)."""

    def __init__(self, path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 retention_days: float = DEFAULT_RETENTION_DAYS, readonly: bool = False):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.retention_days = retention_days
        self.readonly = readonly
        self.problem: str | None = None      # what happened to a file that could not be used
        self.set_aside: Path | None = None
        self._lock = threading.RLock()
        self._ids: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._db: sqlite3.Connection | None = None
        self._open()

    # -- opening -------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5.0, check_same_thread=False)
        else:
            db = sqlite3.connect(str(self.path), timeout=5.0, check_same_thread=False, isolation_level=None)
        try:
            if not self.readonly:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            ok = db.execute("PRAGMA quick_check").fetchone()
            if not ok or ok[0] != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {ok[0] if ok else 'no answer'}")
            if not self.readonly:
                db.executescript(_SCHEMA)
                db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
            else:
                db.execute("SELECT 1 FROM samples LIMIT 1")
            return db
        except BaseException:
            db.close()
            raise

    def _open(self) -> None:
        if not self.readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as e:
            if self.readonly:
                raise
            self._set_aside(str(e))
            self._db = self._connect()
        self._load_ids()
        if not self.readonly:
            self.enforce_limits()

    def _set_aside(self, why: str) -> None:
        """Rename a file that is not a usable database (and its WAL) out of the way."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                try:
                    os.replace(src, Path(str(aside) + suffix))
                except OSError as e:         # cannot even rename it: remove, so the car keeps recording
                    log.warning("history: cannot move %s aside (%s); removing it", src, e)
                    src.unlink(missing_ok=True)
        self.set_aside = aside
        self.problem = f"{self.path} could not be used ({why}); moved to {aside.name}, started a new history"
        log.warning("history: %s", self.problem)

    def _load_ids(self) -> None:
        with self._lock:
            rows = self._db.execute("SELECT id, name FROM signals").fetchall()
        self._ids = {n: i for i, n in rows}
        self._names = {i: n for i, n in rows}

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> "HistoryStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------

    def _id(self, name: str) -> int:
        i = self._ids.get(name)
        if i is None:
            cur = self._db.execute("INSERT OR IGNORE INTO signals(name) VALUES (?)", (name,))
            i = cur.lastrowid if cur.rowcount else self._db.execute(
                "SELECT id FROM signals WHERE name = ?", (name,)).fetchone()[0]
            self._ids[name], self._names[i] = i, name
        return i

    def write(self, samples: Iterable[tuple[str, float, float]] = (), events: Iterable[Event] = ()) -> None:
        """One transaction: ``samples`` as ``(signal, t, value)``, ``events``."""
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                db.executemany("INSERT OR REPLACE INTO samples(signal, t, value) VALUES (?, ?, ?)",
                               [(self._id(n), float(t), float(v)) for n, t, v in samples])
                db.executemany("INSERT INTO events(t, kind, name, value, text) VALUES (?, ?, ?, ?, ?)",
                               [(e.t, e.kind, e.name, e.value, e.text) for e in events])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                self._load_ids()
                raise

    def enforce_limits(self, now: float | None = None) -> int:
        """Delete what is past retention, then the oldest days while the file is over
        ``max_bytes``; returns the rows deleted."""
        now = time.time() if now is None else now
        deleted = 0
        with self._lock:
            db = self._db
            cut = now - self.retention_days * DAY
            deleted += db.execute("DELETE FROM samples WHERE t < ?", (cut,)).rowcount
            deleted += db.execute("DELETE FROM events WHERE t < ?", (cut,)).rowcount
            for _ in range(1000):
                if self.size_bytes(live=True) <= self.max_bytes:
                    break
                first = db.execute("SELECT MIN(t) FROM samples").fetchone()[0]
                if first is None:
                    break
                n = db.execute("DELETE FROM samples WHERE t < ?", (first + DAY,)).rowcount
                n += db.execute("DELETE FROM events WHERE t < ?", (first + DAY,)).rowcount
                deleted += n
                if self.free_pages() > 0:
                    db.execute("VACUUM")
            if deleted:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def free_pages(self) -> int:
        return self._db.execute("PRAGMA freelist_count").fetchone()[0]

    def mark_announced(self, key: str, t: float | None = None) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                             (f"announced:{key}", str(time.time() if t is None else t)))

    def announced(self, key: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM meta WHERE key = ?", (f"announced:{key}",)).fetchone() is not None

    # -- reading -------------------------------------------------------------------------------

    def samples(self, name: str, since: float | None = None, until: float | None = None) -> list[tuple[float, float]]:
        """``(t, value)`` of one signal in ``[since, until]``, in time order."""
        i = self._ids.get(name)
        if i is None:
            with self._lock:
                self._load_ids()
            i = self._ids.get(name)
            if i is None:
                return []
        with self._lock:
            return self._db.execute("SELECT t, value FROM samples WHERE signal = ? AND t >= ? AND t <= ? ORDER BY t",
                                    (i, -1e18 if since is None else since, 1e18 if until is None else until)).fetchall()

    def events(self, kind: str | None = None, since: float | None = None, until: float | None = None) -> list[Event]:
        q = "SELECT t, kind, name, value, text FROM events WHERE t >= ? AND t <= ?"
        args: list = [-1e18 if since is None else since, 1e18 if until is None else until]
        if kind is not None:
            q += " AND kind = ?"
            args.append(kind)
        with self._lock:
            return [Event(*row) for row in self._db.execute(q + " ORDER BY t", args)]

    def span(self) -> tuple[float | None, float | None]:
        with self._lock:
            a, b = self._db.execute("SELECT MIN(t), MAX(t) FROM samples").fetchone()
            c, d = self._db.execute("SELECT MIN(t), MAX(t) FROM events").fetchone()
        firsts = [x for x in (a, c) if x is not None]
        lasts = [x for x in (b, d) if x is not None]
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)

    def size_bytes(self, live: bool = False) -> int:
        """The database's size: pages in use (``live``) or the files on disk (with the WAL)."""
        if live:
            with self._lock:
                pages = self._db.execute("PRAGMA page_count").fetchone()[0]
                size = self._db.execute("PRAGMA page_size").fetchone()[0]
                free = self.free_pages()
            return (pages - free) * size
        return sum(p.stat().st_size for p in (self.path, Path(str(self.path) + "-wal")) if p.exists())

    def summary(self) -> Summary:
        with self._lock:
            rows = self._db.execute("SELECT s.name, COUNT(*), MIN(x.t), MAX(x.t) FROM samples x "
                                    "JOIN signals s ON s.id = x.signal GROUP BY x.signal ORDER BY s.name").fetchall()
            events = dict(self._db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall())
        first, last = self.span()
        return Summary(str(self.path), self.size_bytes(), [SignalSummary(*r) for r in rows], events, first, last)

    def export_csv(self, out: IO[str]) -> int:
        """Every sample and event, in time order, as CSV (``time_utc, unix_time, kind, signal,
        value, text``); returns the rows written."""
        w = csv.writer(out)
        w.writerow(["time_utc", "unix_time", "kind", "signal", "value", "text"])
        n = 0
        with self._lock:
            rows = self._db.execute(
                "SELECT x.t, 'sample', s.name, x.value, NULL FROM samples x JOIN signals s ON s.id = x.signal "
                "UNION ALL SELECT t, kind, name, value, text FROM events ORDER BY 1").fetchall()
        for t, kind, name, value, text in rows:
            w.writerow([time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), f"{t:.3f}", kind, name or "",
                        "" if value is None else f"{value:g}", text or ""])
            n += 1
        return n

    def integrity(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]
