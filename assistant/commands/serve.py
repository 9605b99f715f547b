"""``assistant serve``: the head-unit daemon run by systemd (assistant.service).

Reads the config, starts the bus reader, loads the model (prompt prefix from the disk cache),
starts proactive alerts and the configured interface (microphone, stdin lines, or none), then
tells systemd READY=1 and feeds the watchdog while the reader and alert threads are alive.
Exit 2 on a bad config (the unit does not restart on that), 1 on a runtime failure.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time

log = logging.getLogger("assistant.serve")


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="run as the head-unit service (systemd Type=notify)",
                       description="The long-running assistant: config from --config, $ASSISTANT_CONFIG or "
                                   "/etc/assistant/config.yaml. Logs go to stderr (journald under systemd).")
    p.add_argument("--config", help="config file (default: $ASSISTANT_CONFIG or /etc/assistant/config.yaml)")
    p.add_argument("--check", action="store_true", help="validate the config and exit")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from assistant.config import config_path, load_config
    cfg = load_config(args.config)
    if args.check:
        print(f"{config_path(args.config)}: OK")
        return 0
    logging.getLogger().setLevel(cfg.log_level)

    from assistant.pipeline import Assistant
    from assistant.persona import load_persona
    from assistant.service.notify import Notifier
    from assistant.vehicle import LiveVehicle

    notify = Notifier()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    t0 = time.monotonic()
    notify.status("starting: CAN reader")
    vehicle = LiveVehicle.from_bus(cfg.bus, cfg.vehicle, on_status=lambda s: log.info("%s", s))
    vehicle.reader.start()
    persona = load_persona(cfg.persona) if cfg.persona else None
    notify.status("starting: language model")
    from assistant.llm.model import LocalModel
    assistant = Assistant(vehicle.state, LocalModel(cfg.llm), persona=persona)

    speak = None
    if cfg.voice.enabled or cfg.interface == "voice":
        from assistant.speech.tts import Espeak, SoundSpeaker
        speaker = SoundSpeaker(Espeak.for_persona(persona))
        speak = speaker.say
    monitor = None
    if cfg.alerts:
        def on_alert(alert):
            log.warning("alert %s: %s", alert.lamp, alert.text)
            print(f"[alert] {alert.text}", flush=True)
            if speak:
                speak(alert.text)
        monitor = assistant.alert_monitor(on_alert).start()

    threads = [t for t in (vehicle.reader._thread, monitor._thread if monitor else None) if t]
    notify.start_watchdog(lambda: all(t.is_alive() for t in threads))
    ready = f"ready in {time.monotonic() - t0:.2f} s on {cfg.bus.describe()} ({vehicle.profile.name})"
    log.info("%s", ready)
    notify.ready(ready)
    try:
        if cfg.interface == "stdin":
            for line in sys.stdin:
                if stop.is_set():
                    break
                if line.strip():
                    print(assistant.ask(line.strip()).text, flush=True)
        elif cfg.interface == "voice":
            from assistant.speech.audio import Microphone
            from assistant.speech.loop import VoiceSession
            from assistant.speech.stt import Recognizer, load_vocabulary
            vocab = load_vocabulary(cfg.voice.vocabulary) if cfg.voice.vocabulary else None
            session = VoiceSession(assistant, Recognizer(cfg.voice.vosk_model), vocab, lambda t, n: speak(t),
                                   require_wake_word=bool(vocab and vocab.wake_words) and not cfg.voice.push_to_talk)
            session.run_microphone(Microphone(cfg.voice.device), cfg.voice.push_to_talk,
                                   lambda t: log.info("heard %r -> %r", t.transcript, t.answer), stop)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        notify.stopping()
        notify.stop()
        if monitor:
            monitor.stop()
        vehicle.stop()
    return 0
