"""Head-unit deployment: config validation, the sd_notify/watchdog path against a real notify
socket, and the systemd units checked by systemd-analyze where systemd is installed."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from .conftest import ROOT, run_cli


def test_example_config_is_valid():
    r = run_cli("serve", "--check", "--config", str(ROOT / "systemd" / "config.example.yaml"))
    assert r.returncode == 0 and "OK" in r.stdout


def test_bad_config_names_file_line_and_field(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("bus:\n  interface: socketcan\n  chanel: can0\nllm:\n  n_ctx: 12\n")
    r = run_cli("serve", "--config", str(cfg))
    assert r.returncode == 2
    assert f"{cfg}:3: bus.chanel: unknown field" in r.stderr
    assert f"{cfg}:5: llm.n_ctx: Input should be greater than or equal to 256" in r.stderr


def test_missing_config_is_a_clear_error(tmp_path):
    r = run_cli("serve", "--config", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and "file not found" in r.stderr


def test_serve_notifies_ready_feeds_watchdog_and_stops(tmp_path):
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(60)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"bus: {{interface: virtual, channel: serve-test-{os.getpid()}}}\n"
                   f"llm: {{prefix_cache_dir: {tmp_path / 'cache'}}}\ninterface: none\n")
    env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="1000000")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--config", str(cfg)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    env.pop("WATCHDOG_PID", None)
    messages = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and sum("WATCHDOG=1" in m for m in messages) < 2:
            messages.append(sock.recv(4096).decode())
        assert any(m.startswith("READY=1") for m in messages), messages
        ready_at = next(i for i, m in enumerate(messages) if m.startswith("READY=1"))
        assert sum("WATCHDOG=1" in m for m in messages[ready_at:]) >= 2    # fed at half of WatchdogSec
        assert "STATUS=ready in" in messages[ready_at]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        sock.settimeout(5)
        rest = []
        try:
            while True:
                rest.append(sock.recv(4096).decode())
        except socket.timeout:
            pass
        assert "STOPPING=1" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


def test_systemd_units_verify(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed here")
    r = subprocess.run([str(ROOT / "systemd" / "install.sh"), "--bench", "--dest", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    units = sorted(p.name for p in tmp_path.glob("*.service"))
    assert units == ["assistant-simulator.service", "assistant-vcan.service", "assistant.service"]
    text = (tmp_path / "assistant.service").read_text()
    for line in ["Type=notify", "WatchdogSec=", "Restart=on-failure", "User=assistant", "ProtectSystem=strict",
                 "PrivateTmp=yes", "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_UNIX AF_CAN AF_NETLINK",
                 "IPAddressDeny=any", "MemoryMax=", "ReadOnlyPaths=", "After=network.target assistant-vcan.service"]:
        assert line in text, line
    # No start job for a named CAN device: a missing can0 stalled start-up ~90 s, and the channel is
    # the config's (the reader retries with backoff instead).
    directives = [l for l in text.splitlines() if l and not l.startswith("#")]
    assert not any("sys-subsystem-net-devices" in l or "can0" in l for l in directives), directives
    assert "@PREFIX@" not in text and str(ROOT) in text
    v = subprocess.run(["systemd-analyze", "verify", "--man=no", *[str(tmp_path / u) for u in units]],
                       capture_output=True, text=True, cwd=tmp_path)
    assert v.returncode == 0, v.stderr


def test_install_script_dry_run():
    r = subprocess.run([str(ROOT / "systemd" / "install.sh"), "--dry-run", "--bench"], capture_output=True, text=True)
    assert r.returncode == 0
    assert "render assistant.service -> /etc/systemd/system/assistant.service" in r.stdout
    assert "+ systemctl daemon-reload" in r.stdout


def test_check_validates_every_named_thing_with_lines(tmp_path):
    """--check (and start-up) load what the config names, not only its shape."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text("bus:\n  interface: socketcann\n  channel: can0\n"
                   "vehicle: nosuchcar\n"
                   "persona: nobody\n"
                   "llm:\n  path: nope.gguf\n"
                   "voice:\n  vosk_model: no-vosk-here\n  vocabulary: xx\n"
                   "interface: voice\n")
    for args in (["serve", "--check", "--config", str(cfg)], ["serve", "--config", str(cfg)]):
        r = run_cli(*args)
        assert r.returncode == 2 and "OK" not in r.stdout and "Traceback" not in r.stderr
        for line in [f"{cfg}:2: bus.interface: unknown python-can interface 'socketcann'",
                     f"{cfg}:4: vehicle: unknown vehicle profile 'nosuchcar' (shipped: demo",
                     f"{cfg}:5: persona: unknown persona 'nobody'",
                     f"{cfg}:7: llm.path: model file ",
                     f"{cfg}:9: voice.vosk_model: no vosk model folder at ",
                     f"{cfg}:10: voice.vocabulary: unknown vocabulary 'xx' (shipped: en, ko"]:
            assert line in r.stderr, (line, r.stderr)


def test_check_loads_the_gguf_and_the_files_named(tmp_path):
    real = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(real.read_bytes()[:3_000_000])      # a real header, the weights cut off
    persona = tmp_path / "p.yaml"
    persona.write_text("name: X\nlocale: xx-XX\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"persona: {persona}\nllm: {{path: {truncated}}}\nvehicle: {tmp_path / 'car.yaml'}\n")
    r = run_cli("serve", "--check", "--config", str(cfg))
    assert r.returncode == 2
    assert f"{cfg}:1: persona: {persona}:2: locale:" in r.stderr
    assert f"{cfg}:2: llm.path: {truncated}: llama.cpp cannot load it (" in r.stderr and "corrupt" in r.stderr
    assert f"{cfg}:3: vehicle: " in r.stderr and "file not found" in r.stderr
    assert "llama_model_load" not in r.stderr                  # llama.cpp's own chatter stays out


def test_unused_vosk_model_is_a_warning(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("voice: {vosk_model: not-installed-yet}\ninterface: none\n")
    r = run_cli("serve", "--check", "--config", str(cfg))
    assert r.returncode == 0 and "OK" in r.stdout
    assert f"warning: {cfg}:1: voice.vosk_model: no vosk model folder" in r.stderr
    assert "(unused while interface is 'none')" in r.stderr


def test_no_sound_card_message_fits_serve(tmp_path):
    try:
        import sounddevice
        sounddevice.query_devices(None, "output")
        pytest.skip("this machine has a sound card")
    except Exception:
        pass
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"bus: {{interface: virtual, channel: serve-sound-{os.getpid()}}}\nvoice: {{enabled: true}}\n")
    r = run_cli("serve", "--config", str(cfg))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "no audio output device" in r.stderr and "--output" not in r.stderr
    assert f"{cfg} asks for speech (voice.enabled: true)" in r.stderr and "voice.enabled: false" in r.stderr
