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
                 "IPAddressDeny=any", "MemoryMax=", "ReadOnlyPaths=", "After=sys-subsystem-net-devices-can0.device"]:
        assert line in text, line
    assert "@PREFIX@" not in text and str(ROOT) in text
    v = subprocess.run(["systemd-analyze", "verify", "--man=no", *[str(tmp_path / u) for u in units]],
                       capture_output=True, text=True, cwd=tmp_path)
    assert v.returncode == 0, v.stderr


def test_install_script_dry_run():
    r = subprocess.run([str(ROOT / "systemd" / "install.sh"), "--dry-run", "--bench"], capture_output=True, text=True)
    assert r.returncode == 0
    assert "render assistant.service -> /etc/systemd/system/assistant.service" in r.stdout
    assert "+ systemctl daemon-reload" in r.stdout
