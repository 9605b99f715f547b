"""FrameDecoder's payload cache: a frame repeating the last payload of its id skips cantools,
but everything else (times, ages, history, counters, range checks, DTC cycles) is as if it
had been decoded."""

import itertools
import time

import can
import pytest

from assistant.can.codec import NOT_AVAILABLE, OUT_OF_RANGE
from assistant.can.profile import load_profile
from assistant.can.reader import FrameDecoder
from assistant.state.store import OK, UNAVAILABLE, VehicleState

from .conftest import RAV4_LOG

from .test_faults_reader import encoded, frame

FUEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"
RANGE = "Vehicle.Powertrain.FuelSystem.Range"
DTC = "Vehicle.Diagnostics.DTCList"


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def demo(clock=None):
    p = load_profile("demo")
    st = VehicleState.for_profile(p, clock=clock) if clock else VehicleState.for_profile(p)
    return p, st, FrameDecoder(p, st, log_interval=60)


def expected(p, msg):
    """What a fresh cantools decode of ``msg`` gives for each mapped signal it carries."""
    codec = p.codecs[msg.arbitration_id]
    decoded = codec.message.decode(msg.data, decode_choices=False)
    out = {}
    for m in codec.mappings:
        v = decoded.get(m.signal)
        if v is not None:
            c = m.decode(v)
            out[m.canonical] = NOT_AVAILABLE if c is OUT_OF_RANGE else c
    return out


def test_a_repeated_payload_refreshes_age_stamp_history_and_updates():
    clock = Clock()
    p, st, dec = demo(clock)
    fid, ext, data = encoded(p, "FuelStatus", FuelLevel=40, FuelRange=300, AvgFuelConsumption=6.5)
    dec.on_message_received(frame(fid, ext, data, 50.0))
    updates = st.updates
    clock.t += 4.0
    assert st.get(FUEL).age == pytest.approx(4.0)
    dec.on_message_received(frame(fid, ext, bytearray(data), 54.0))    # same bytes, new object
    assert dec.cache_hits == 1 and dec.n_cantools_decodes == 1
    r = st.get(FUEL)
    assert r.value == 40.0 and r.status == OK and r.age == pytest.approx(0.0) and r.timestamp == 54.0
    assert st.get(RANGE).age == pytest.approx(0.0)
    assert st.updates == 2 * updates                    # both frames count all their signals
    assert [t for t, _ in st.history(FUEL)] == [50.0, 54.0]     # history interval passed: recorded
    assert dec.counts["decoded"] == 2 and dec.counts["frames"] == 2


def test_a_repeated_payload_still_goes_through_the_out_of_order_check():
    p, st, dec = demo()
    fid, ext, data = encoded(p, "FuelStatus", FuelLevel=40, FuelRange=300)
    t0 = time.time()
    dec.on_message_received(frame(fid, ext, data, t0))
    dec.on_message_received(frame(fid, ext, data, t0 - 0.1))
    assert dec.counts["out_of_order"] == 1 and dec.counts["decoded"] == 1
    assert st.get(FUEL).timestamp == t0


def test_a_changed_payload_decodes_the_new_value():
    p, st, dec = demo()
    t0 = time.time()
    for i, level in enumerate([40, 40, 41, 41, 40]):
        fid, ext, data = encoded(p, "FuelStatus", FuelLevel=level, FuelRange=300)
        dec.on_message_received(frame(fid, ext, data, t0 + i))
        assert st.get(FUEL).value == float(level)
    assert dec.cache_hits == 2 and dec.n_cantools_decodes == 3


def test_an_out_of_range_value_stays_unavailable_and_counted_on_repeat():
    p, st, dec = demo()
    t0 = time.time()
    good = encoded(p, "FuelStatus", FuelLevel=40, FuelRange=300)
    bad = encoded(p, "FuelStatus", FuelLevel=125, FuelRange=300)
    dec.on_message_received(frame(*good, t0))
    for i in range(5):
        dec.on_message_received(frame(*bad, t0 + 1 + i))
        assert st.get(FUEL).status == UNAVAILABLE and st.get(FUEL).value is None
        assert st.get(RANGE).status == OK
    assert dec.cache_hits == 4
    assert dec.counts["out_of_range"] == 5           # counted per frame, as without the cache
    assert st.last_good(FUEL)[0] == 40.0              # the value before "not available" is kept
    dec.on_message_received(frame(*good, t0 + 10))
    assert st.get(FUEL).status == OK and st.get(FUEL).value == 40.0


def test_long_dlc_frames_are_counted_on_every_repeat():
    p, st, dec = demo()
    fid, ext, data = encoded(p, "FuelStatus", FuelLevel=55, FuelRange=300)
    padded = bytes(data) + b"\x00" * (8 - len(data)) if len(data) < 8 else bytes(data) + b"\x00" * 8
    t0 = time.time()
    for i in range(3):
        dec.on_message_received(can.Message(arbitration_id=fid, is_extended_id=ext, data=padded,
                                            timestamp=t0 + i, is_fd=len(padded) > 8))
    assert dec.counts["long_dlc"] == 3 and dec.counts["decoded"] == 3 and dec.cache_hits == 2
    assert st.get(FUEL).value == 55.0


def test_dtc_frames_are_decoded_correctly_across_repeats():
    p, st, dec = demo()
    frames = p.encode({DTC: ["P0301", "C0035", "U0100"]})["DTC_Report"]
    t0 = time.time()
    for k, (fid, ext, data) in enumerate(frames * 4):   # the same 3 payloads, cycle after cycle
        dec.on_message_received(frame(fid, ext, data, t0 + k * 0.01))
    assert st.get(DTC).value == ["P0301", "C0035", "U0100"] and st.get(DTC).status == OK
    assert st.get(DTC).timestamp == t0 + 11 * 0.01      # refreshed by the last frame
    (fid, ext, data), = p.encode({DTC: []})["DTC_Report"]
    for k in range(3):                                  # the same "no codes" payload repeated
        dec.on_message_received(frame(fid, ext, data, t0 + 1 + k))
        assert st.get(DTC).value == []
    assert dec.counts["bad_value"] == 0


def test_a_multiplexed_message_is_cached_per_payload_not_per_id():
    """hyundai's EMS12 is multiplexed (not a DTC message): alternating mux values share an id."""
    p = load_profile("hyundai")
    codec = next(c for c in p.codecs.values() if c.message.is_multiplexed() and c.dtc is None)
    msg = codec.message
    mux = next(s for s in msg.signals if s.is_multiplexer)
    payloads = []
    for mux_value in sorted({i for s in msg.signals for i in (s.multiplexer_ids or [])}):
        base = {s.name: 0 for s in msg.signals if not s.multiplexer_ids or mux_value in s.multiplexer_ids}
        base[mux.name] = mux_value
        for s in msg.signals:      # a nonzero value in each signal, so the payloads differ
            if s.name in base and s is not mux:
                base[s.name] = s.conversion.raw_to_scaled(1) if s.length > 1 else 1
        payloads.append(msg.encode(base, scaling=True, padding=True, strict=False))
    assert len(payloads) >= 2
    st = VehicleState.for_profile(p)
    dec = FrameDecoder(p, st)
    t0 = time.time()
    seq = [payloads[0], payloads[0], payloads[1], payloads[1], payloads[0], payloads[1]]
    for k, data in enumerate(seq):
        m = frame(msg.frame_id, msg.is_extended_frame, data, t0 + k)
        dec.on_message_received(m)
        for name, v in expected(p, m).items():
            assert st._latest[name][0] == v and st._latest[name][3] == t0 + k, name
    assert dec.cache_hits == 2 and dec.counts["decoded"] == len(seq)


def test_values_through_the_cache_equal_a_fresh_decode_for_every_rav4_frame():
    if not RAV4_LOG.is_file():
        pytest.skip(f"{RAV4_LOG} not present")
    p = load_profile("toyota_rav4")
    st = VehicleState.for_profile(p)
    dec = FrameDecoder(p, st, timing="message")
    checked = 0
    for m in can.LogReader(str(RAV4_LOG)):
        before = dec.n_decoded
        dec.on_message_received(m)
        if dec.n_decoded == before:
            continue
        for name, v in expected(p, m).items():
            entry = st._latest[name]
            assert entry[0] == v and entry[3] == m.timestamp, (name, m)
        checked += 1
    mapped = sum(1 for m in can.LogReader(str(RAV4_LOG)) if m.arbitration_id in p.codecs)
    assert checked == mapped > 2500 and dec.cache_hits > 0
    assert dec.counts["decoded"] == mapped and dec.counts["frames"] == 53800


def test_reset_order_forgets_the_cached_payloads():
    p, st, dec = demo()
    fid, ext, data = encoded(p, "FuelStatus", FuelLevel=40, FuelRange=300)
    t0 = time.time()
    dec.on_message_received(frame(fid, ext, data, t0))
    dec.reset_order()
    dec.on_message_received(frame(fid, ext, data, t0 + 1))
    assert dec.cache_hits == 0 and dec.n_cantools_decodes == 2


def test_feeding_a_recording_in_bulk_equals_feeding_it_frame_by_frame(caplog):
    """FrameDecoder.feed (recordings: --log --at) skips unmapped ids in its own loop: the
    counters, the logged unknown ids and every value in the state are those of the per-frame path."""
    if not RAV4_LOG.is_file():
        pytest.skip(f"{RAV4_LOG} not present")
    p = load_profile("toyota_rav4")
    frames = list(can.LogReader(str(RAV4_LOG)))
    frames.insert(100, can.Message(arbitration_id=0x7FF, is_error_frame=True, timestamp=frames[99].timestamp))
    frames.insert(200, can.Message(arbitration_id=0xB4, is_remote_frame=True, timestamp=frames[199].timestamp))
    outcomes = []
    for bulk in (False, True):
        caplog.clear()
        st = VehicleState.for_profile(p)
        dec = FrameDecoder(p, st, timing="message", log_interval=0)
        if bulk:
            dec.feed(iter(frames))
        else:
            for m in frames:
                dec.on_message_received(m)
        logged = [r.getMessage() for r in caplog.records if "not an id of profile" in r.getMessage()]
        outcomes.append((dec.counts, dict(st._latest), logged))
    (c1, v1, l1), (c2, v2, l2) = outcomes
    assert c1 == c2 and c1["frames"] == 53802 and c1["error_or_remote"] == 2 and c1["unknown_id"] > 50000
    assert v1 == v2 and len(v1) > 0
    assert l1 == l2 and len(l1) > 5      # the rate limiter is asked at the same frames


@pytest.mark.parametrize("name", ["demo", "ford", "hyundai", "peugeot_208", "toyota_rav4"])
def test_decoding_only_the_mapped_signals_gives_what_a_whole_message_decode_gives(name):
    """MessageCodec.mapped_decoder (cantools' decode_data on the mapped signals, raw values) against
    cantools' Message.decode, on random payloads of every non-multiplexed message a profile maps."""
    import random
    rnd = random.Random(7)
    p = load_profile(name)
    checked = 0
    for codec in p.codecs.values():
        fast = codec.mapped_decoder()
        if fast is None:
            assert codec.message.is_multiplexed() or codec.dtc is not None
            continue
        for _ in range(200):
            data = bytes(rnd.getrandbits(8) for _ in range(codec.message.length))
            whole = codec.message.decode(data, decode_choices=False, scaling=False)
            part = fast(data)
            assert part == {m.signal: whole[m.signal] for m in codec.mappings}, codec.message.name
            longer = fast(data + b"\x00\x00")          # a padded frame: decoded from the DBC length
            assert longer == part
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", ["demo", "ford", "hyundai", "peugeot_208", "toyota_rav4"])
def test_values_through_the_per_signal_memo_equal_a_fresh_decode_on_random_payloads(name):
    """The reader turns each raw value into its canonical value once (a per-signal memo): on
    random payloads, each frame sent twice and values repeating across frames, every state value
    is what cantools' whole-message decode and the mapping give, and an out-of-range value is
    counted on every frame that carries it."""
    import random
    rnd = random.Random(11)
    p = load_profile(name)
    st = VehicleState.for_profile(p, clock=Clock())
    dec = FrameDecoder(p, st, log_interval=60)
    checked = 0
    for fid, codec in p.codecs.items():
        if codec.dtc is not None:
            continue
        pool = [bytes(rnd.getrandbits(8) for _ in range(codec.message.length)) for _ in range(40)]
        for data in [rnd.choice(pool) for _ in range(120)]:
            msg = can.Message(arbitration_id=fid, is_extended_id=codec.message.is_extended_frame,
                              data=data, timestamp=0)
            try:
                want = expected(p, msg)
            except Exception:
                continue                           # not decodable (unknown mux value): skipped by both
            bad_before = dec.n_out_of_range
            dec.on_message_received(msg)
            for canonical, v in want.items():
                assert st._latest[canonical][0] == v, (name, codec.message.name, canonical, data.hex())
            n_bad = sum(1 for m in codec.mappings if m.signal in codec.message.decode(data, decode_choices=False)
                        and m.decode(codec.message.decode(data, decode_choices=False)[m.signal]) is OUT_OF_RANGE)
            assert dec.n_out_of_range - bad_before == n_bad
            checked += 1
    assert checked > 100
