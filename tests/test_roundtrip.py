"""Every mapped signal of every shipped profile: value -> cantools encode -> virtual bus ->
BusReader -> VehicleState equals the value (within the DBC resolution)."""

import time

import can
import pytest

from assistant import paths
from assistant.bench.scenario import Scenario
from assistant.bench.simulator import Simulator
from assistant.can.bus import BusConfig
from assistant.can.profile import NOT_AVAILABLE, load_profile
from assistant.can.reader import BusReader
from assistant.state.signals import Kind
from assistant.state.store import OK, VehicleState

PROFILES = sorted(p.stem for p in paths.VEHICLES_DIR.glob("*.yaml"))
CODES = ["P0301", "C0035", "B1234", "U0100"]


def sample_values(profile, pick):
    """A representable value for every mapped signal; pick=0 or 1 chooses between two sets."""
    values, tolerance = {}, {}
    for name, m in profile.mappings.items():
        sig = m.message.get_signal_by_name(m.signal)
        kind = m.spec.kind
        if kind is Kind.DTC_LIST:
            values[name] = CODES[: 2 + pick][: len(m.items)]
            continue
        if kind in (Kind.BOOL, Kind.ENUM):
            choices = sorted({m.decode(p) for p in _phys_candidates(sig)} - {NOT_AVAILABLE}, key=str)
            values[name] = choices[pick % len(choices)]
            continue
        lo = sig.minimum if sig.minimum is not None else sig.conversion.raw_to_scaled(0)
        hi = sig.maximum if sig.maximum is not None else lo + 100 * sig.scale
        raw_lo = round((lo - sig.offset) / sig.scale)
        raw_hi = round((hi - sig.offset) / sig.scale)
        raw = raw_lo + (raw_hi - raw_lo) * (1 + pick) // 3
        phys = sig.conversion.raw_to_scaled(raw, decode_choices=False)
        values[name] = m.decode(phys)
        if values[name] is NOT_AVAILABLE:   # landed on the SNA value: take its neighbour
            raw -= 1
            values[name] = m.decode(sig.conversion.raw_to_scaled(raw, decode_choices=False))
        tolerance[name] = abs(m.decode(sig.conversion.raw_to_scaled(raw + 1, decode_choices=False)) - values[name])
    return values, tolerance


def _phys_candidates(sig):
    """Physical values of the raw values cantools can decode (signed ones two's complement)."""
    lo = -(1 << (sig.length - 1)) if sig.is_signed else 0
    raws = range(lo, lo + min(1 << sig.length, 64))
    return [sig.conversion.raw_to_scaled(r, decode_choices=False) for r in raws]


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("pick", [0, 1])
def test_every_mapped_signal_round_trips(name, pick, channel):
    profile = load_profile(name)
    values, tolerance = sample_values(profile, pick)
    assert values, f"{name}: no mapped signals"
    state = VehicleState.for_profile(profile)
    cfg = BusConfig(interface="virtual", channel=channel)
    with BusReader(cfg, profile, state) as reader:
        assert reader.connected.wait(2)
        tx = can.Bus(interface="virtual", channel=channel)
        try:
            with Simulator(tx, profile, Scenario(name="rt", vehicle=name, signals=values)):
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    snap = state.snapshot(list(values))
                    if all(r.status == OK for r in snap.values()):
                        break
                    time.sleep(0.02)
        finally:
            tx.shutdown()
    wrong = {}
    for sig, expected in values.items():
        r = snap[sig]
        ok = r.status == OK and (
            abs(r.value - expected) <= tolerance[sig] / 2 + 1e-9 if sig in tolerance else r.value == expected)
        if not ok:
            wrong[sig] = (expected, r.value, r.status)
    assert not wrong, f"{name}: {wrong}"
    assert reader.counts["undecodable"] == 0 and reader.counts["short_dlc"] == 0
