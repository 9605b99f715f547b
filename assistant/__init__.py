"""Offline in-vehicle assistant grounded on live CAN signals.

Stages (one package each, data flows one way):
  can/    bus access, DBC loading, vehicle profiles (DBC signal -> canonical name), bus reader
  state/  canonical signal catalog, units, the live vehicle state
  bench/  scenarios, simulator, log replay, monitor (test-bench side; the only code that transmits)
"""

__version__ = "0.1.0"
