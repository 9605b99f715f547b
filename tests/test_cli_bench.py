"""The bench commands from the outside: monitor, simulate, --help, vcan when present."""

import json
import subprocess
import sys
import time

import pytest

from assistant.can.profile import load_profile

from .conftest import ROOT, run_cli, vcan_available


@pytest.mark.parametrize("cmd", ["ask", "chat", "demo", "simulate", "replay", "monitor"])
def test_every_command_has_help(cmd):
    r = run_cli(cmd, "--help")
    assert r.returncode == 0 and "usage: assistant " + cmd in r.stdout


def test_monitor_once_json_shows_the_scenario_through_the_reader():
    r = run_cli("monitor", "--scenario", "low_fuel", "--once", "--json", "--wait", "0.5")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    sig = d["signals"]
    assert sig["Vehicle.Powertrain.FuelSystem.RelativeLevel"]["value"] == 7
    assert sig["Vehicle.Powertrain.FuelSystem.Range"]["value"] == 48000
    assert sig["Vehicle.Powertrain.FuelSystem.Range"]["status"] == "ok"
    assert sig["Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure"]["status"] == "missing"
    assert d["counts"]["decoded"] > 0 and d["connected"] is True


def test_monitor_table_marks_stale_and_missing():
    r = run_cli("monitor", "--scenario", "low_fuel", "--once", "--wait", "0.3")
    assert r.returncode == 0
    assert "Vehicle.Powertrain.FuelSystem.Range" in r.stdout and "48000 m" in r.stdout
    assert "not received" in r.stdout
    footer = r.stdout.strip().splitlines()[-1]
    for counter in ("unknown id", "short", "long (decoded)", "undecodable", "bad value", "error/remote",
                    "bus errors"):
        assert f"0 {counter}" in footer, footer


def test_monitor_live_table_updates_with_the_timeline(tmp_path):
    sc = tmp_path / "drop.yaml"
    sc.write_text("name: drop\nsignals: {Vehicle.Powertrain.FuelSystem.Range: 48000, Vehicle.Speed: 30}\n"
                  "timeline:\n  - {at: 0.5, set: {Vehicle.Powertrain.FuelSystem.Range: 47000}}\n"
                  "  - {at: 1.0, clear: [Vehicle.Speed]}\n")
    r = run_cli("monitor", "--scenario", str(sc), "--duration", "2.5", "--interval", "0.4")
    assert r.returncode == 0, r.stderr
    assert "48000 m" in r.stdout and "47000 m" in r.stdout
    assert "STALE" in r.stdout.split("47000 m")[-1]


def test_simulate_bad_scenario_names_the_field(tmp_path):
    sc = tmp_path / "bad.yaml"
    sc.write_text("name: bad\nsignals:\n  Vehicle.Speed: fast\n")
    r = run_cli("simulate", str(sc), "--interface", "virtual", "--duration", "0.1")
    assert r.returncode == 2
    assert f"{sc}:3: signals.Vehicle.Speed: expected a number in km/h, got 'fast'" in r.stderr


def test_simulate_runs_and_stops_on_the_virtual_interface():
    r = run_cli("simulate", "overheating", "--interface", "virtual", "--channel", "simtest", "--duration", "0.5")
    assert r.returncode == 0, r.stderr
    assert "simulating 'overheating'" in r.stdout and "EngineStatus" in r.stdout


def test_simulator_warns_about_signals_a_real_dbc_cannot_leave_out(caplog):
    assert load_profile("demo").implied_signals({"Vehicle.Telltale.LowFuel": "ON"}) == []
    assert load_profile("hyundai").implied_signals({"Vehicle.Telltale.LowFuel": "ON"}) == \
        ["Vehicle.Powertrain.FuelSystem.Range"]


def test_monitor_without_vcan_says_what_is_missing():
    ok, reason = vcan_available("vcan0")
    if ok:
        pytest.skip("vcan0 exists here")
    r = run_cli("monitor", "--channel", "vcan0", "--once", "--wait", "0.3")
    assert r.returncode == 3, (r.returncode, r.stderr)          # no live data: not a success
    assert "NOT CONNECTED" in r.stdout and "vcan-setup.sh up" in r.stdout   # the snapshot is still printed
    assert "monitor: not connected to socketcan:vcan0" in r.stderr


def test_simulate_and_monitor_across_processes_on_real_vcan():
    ok, reason = vcan_available("vcan0")
    if not ok:
        pytest.skip(reason)
    sim = subprocess.Popen([sys.executable, "-m", "assistant", "simulate", "low_fuel", "--channel", "vcan0",
                            "--duration", "4"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        r = run_cli("monitor", "--channel", "vcan0", "--once", "--json", "--wait", "1.5")
        d = json.loads(r.stdout)
        assert d["signals"]["Vehicle.Powertrain.FuelSystem.Range"]["value"] == 48000
    finally:
        sim.wait(10)
