"""Proactive alerts: critical lamps announced within 1 s with the safety wording, once, with
reminders; non-critical ones once per drive when the persona allows."""

import time

from assistant.alerts import AlertMonitor
from assistant.answer.render import Style
from assistant.persona import load_persona
from assistant.pipeline import Assistant
from assistant.state.store import VehicleState
from assistant.vehicle import LiveVehicle

from .conftest import telltale_info

OIL = "Vehicle.Telltale.OilPressure"


def test_critical_lamp_on_the_bus_is_announced_within_one_second_once():
    with LiveVehicle.from_scenario("oil_light_midway") as v:
        got = []
        mon = Assistant(v.state, None).alert_monitor(lambda a: got.append((time.monotonic(), a))).start()
        time.sleep(0.5)
        assert got == []                                        # nothing on yet
        t0 = time.monotonic()
        v.simulator.set({"Vehicle.Telltale.OilPressure": "ON"})
        time.sleep(2.0)
        mon.stop()
    assert len(got) == 1, got                                   # once, not every poll
    t, alert = got[0]
    assert alert.lamp == "OilPressure" and alert.critical
    assert t - t0 < 1.0, t - t0
    assert alert.text == " ".join(telltale_info()["OilPressure"]["safety"].split())


def fake_state(values, clock):
    st = VehicleState({}, clock=clock, default_stale_after=1e9)
    st.capabilities = [f"Vehicle.Telltale.{n}" for n in telltale_info()]
    for name, v in values.items():
        st.update(f"Vehicle.Telltale.{name}", v, clock(), "test")
    return st


def test_reminder_policy_and_flicker():
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    st = fake_state({"OilPressure": "OFF"}, clock)
    mon = AlertMonitor(st, clock=clock, reminder_s=120, min_repeat_s=10)
    assert mon.poll() == []
    st.update(OIL, "ON", now[0], "t")
    assert [a.lamp for a in mon.poll()] == ["OilPressure"]
    now[0] = 60
    st.update(OIL, "ON", now[0], "t")
    assert mon.poll() == []                                     # still on: no repeat yet
    now[0] = 121
    st.update(OIL, "ON", now[0], "t")
    (rem,) = mon.poll()
    assert rem.reminder                                         # reminder after reminder_s
    now[0] = 123
    st.update(OIL, "OFF", now[0], "t")
    mon.poll()
    st.update(OIL, "ON", now[0], "t")
    assert mon.poll() == []                                     # flicker within min_repeat_s: quiet
    now[0] = 140
    st.update(OIL, "OFF", now[0], "t")
    mon.poll()
    st.update(OIL, "ON", now[0], "t")
    assert [a.reminder for a in mon.poll()] == [False]          # a real new event


def test_non_critical_once_per_drive_and_only_if_the_persona_allows():
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    st = fake_state({"LowFuel": "ON", "TirePressure": "OFF"}, clock)
    mon = AlertMonitor(st, Style(), clock=clock)
    assert [(a.lamp, a.critical) for a in mon.poll()] == [("LowFuel", False)]
    assert "low fuel warning has come on" in mon.history[0].text
    for flicker in ("OFF", "ON", "OFF", "ON"):
        st.update("Vehicle.Telltale.LowFuel", flicker, clock(), "t")
        assert mon.poll() == []                                 # once per drive
    quiet = AlertMonitor(st, Style(), clock=clock, announce_non_critical=False)
    assert quiet.poll() == []


def test_which_non_critical_lamps_are_announced_comes_from_the_lamp_policy():
    """Warnings of the catalogue (a door open, the parking brake) are said once when they come
    on; information lamps and indicators (washer fluid, high beam) are not, the service
    reminder is (telltales.yaml: announce)."""
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    st = fake_state({"DoorOpen": "ON", "ParkingBrake": "ON", "WasherFluid": "ON", "HighBeam": "ON",
                     "ServiceDue": "ON"}, clock)
    mon = AlertMonitor(st, Style(), clock=clock)
    assert sorted(a.lamp for a in mon.poll()) == ["DoorOpen", "ParkingBrake", "ServiceDue"]
    assert all(not a.critical for a in mon.history)


def test_blinking_check_engine_is_critical_steady_is_not():
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    st = fake_state({"CheckEngine": "ON"}, clock)
    mon = AlertMonitor(st, clock=clock)
    assert [(a.lamp, a.critical) for a in mon.poll()] == [("CheckEngine", False)]
    st.update("Vehicle.Telltale.CheckEngine", "BLINK", clock(), "t")
    assert [(a.lamp, a.critical) for a in mon.poll()] == [("CheckEngine", True)]


def test_unreadable_lamps_never_raise_alerts():
    now = [0.0]
    st = VehicleState({OIL: 0.5}, clock=lambda: now[0])
    st.capabilities = [OIL]
    st.update(OIL, "ON", -10.0, "t")                            # stale
    assert AlertMonitor(st, clock=lambda: now[0]).poll() == []


def test_alerts_in_the_persona_language():
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    st = fake_state({"BrakeSystem": "ON"}, clock)
    persona = load_persona("lumiere")
    (a,) = AlertMonitor.for_persona(st, persona, persona.style(), None, clock=clock).poll()
    assert a.text.startswith("Attention")


def test_chat_prints_the_alert_when_the_oil_lamp_comes_on_between_questions():
    """`assistant chat` on the oil_light_midway scenario (the lamp comes on at 8 s on the bus):
    the alert is printed once, unprompted, before the next question is asked."""
    import subprocess
    import sys

    from .conftest import ROOT
    p = subprocess.Popen([sys.executable, "-m", "assistant", "chat", "--no-model", "--scenario", "oil_light_midway"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        time.sleep(10.0)
        out, err = p.communicate("quit\n", timeout=60)
    finally:
        p.kill()
    assert p.returncode == 0, err
    assert out.count("[alert] Warning: oil pressure is low.") == 1, out
