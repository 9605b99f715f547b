"""systemd readiness and watchdog (sd_notify through the ``sdnotify`` package).

Outside systemd (no ``$NOTIFY_SOCKET``) every call is a no-op. The watchdog interval comes from
``$WATCHDOG_USEC`` (set by ``WatchdogSec=``); the service pings at half of it, and only while
its health check passes, so a hung reader or loop gets the unit restarted.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Callable

import sdnotify

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self):
        self.enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        self._n = sdnotify.SystemdNotifier() if self.enabled else None
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        self.watchdog_s = int(usec) / 1e6 if usec and (not pid or int(pid) == os.getpid()) else None
        self._stop = threading.Event()

    def send(self, text: str) -> None:
        if self._n is not None:
            self._n.notify(text)

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def start_watchdog(self, healthy: Callable[[], bool]) -> None:
        if self.watchdog_s is None:
            return

        def run():
            while not self._stop.wait(self.watchdog_s / 2):
                if healthy():
                    self.send("WATCHDOG=1")
                else:
                    log.error("health check failed: not feeding the watchdog")
        threading.Thread(target=run, name="watchdog", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
