"""``assistant serve``: the head-unit daemon run by systemd (assistant.service).

Reads the config and checks everything it names (profile, persona, GGUF, vocabulary, vosk model:
see assistant/config.py; the GGUF is ``--model``, else the config's ``llm.path``, else
``$ASSISTANT_MODEL``, else the default: see assistant/assembly.py), starts the bus reader, loads
the model (prompt prefix from the disk cache), starts proactive alerts and the configured interface (microphone, stdin lines, or none),
then tells systemd READY=1 and feeds the watchdog while the reader and alert threads are alive.
Exit 2 on a bad config (the unit does not restart on that), 1 on a runtime failure.

Push-to-talk under systemd has no keyboard: each press is a SIGUSR1 to the main process
(``systemctl kill -s SIGUSR1 --kill-whom=main assistant``, or a steering-wheel button daemon).
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
                                   "/etc/assistant/config.yaml. Logs go to stderr (journald under systemd). "
                                   "With voice.push_to_talk, send SIGUSR1 for each utterance.")
    p.add_argument("--config", help="config file (default: $ASSISTANT_CONFIG or /etc/assistant/config.yaml)")
    p.add_argument("--check", action="store_true",
                   help="validate the config and everything it names (profile, persona, model files), build its "
                        "prompt-prefix cache if missing, then exit")
    p.add_argument("--model", help="GGUF model instead of the config's llm.path: a path, or a file name in "
                                   "models/ (.gguf may be left out); without either, $ASSISTANT_MODEL, else "
                                   "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    p.set_defaults(run=run)


def _no_sound_hint(cfg, path) -> str:
    what = "interface: voice" if cfg.interface == "voice" else "voice.enabled: true"
    return (f"{path} asks for speech ({what}); give the service a sound card (its user is in the "
            f"'audio' group), or set voice.enabled: false and interface: stdin or none there")


def _check_model(llm, load_gguf: bool) -> None:
    """The model chosen instead of the config's llm.path (--model, or $ASSISTANT_MODEL when the
    config names none) gets the config's check: a ModelError (exit 2) if it is not a GGUF
    llama.cpp loads (``load_gguf=False``: the header only, as for the config's own)."""
    from assistant.config import gguf_load_error
    from assistant.llm.model import ModelError, _check_file
    gguf = llm.resolved_path()
    _check_file(gguf)
    complaint = gguf_load_error(gguf) if load_gguf else None
    if complaint:
        raise ModelError(f"{gguf}: llama.cpp cannot load it ({complaint})")


def _build_prefix_cache(cfg) -> None:
    """--check also evaluates the config's prompt prefix (model + persona) into the disk cache
    ($ASSISTANT_CACHE_DIR, llm.prefix_cache_dir or ~/.cache/assistant) if it is not there, so the
    next start loads it instead of evaluating it. An unwritable cache is a warning: it only costs
    start-up time."""
    from assistant import assembly
    from assistant.install import build_prefix
    persona = assembly.load_persona(cfg.persona) if cfg.persona else None
    r = build_prefix(assembly.load_model(config=cfg.llm), persona)   # cfg.llm: --model/$ASSISTANT_MODEL applied
    if r["saved"]:
        print(f"prompt prefix ({r['tokens']} tokens): {r['source']} in {r['s']:.2f} s, cached in {r['cache']}",
              file=sys.stderr)
    else:
        print(f"warning: could not write the prompt prefix cache {r['cache']}: each start will evaluate it "
              f"(make the folder writable or set $ASSISTANT_CACHE_DIR)", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from assistant.config import config_path, load_config
    path = config_path(args.config)
    # A start loads the model for real right after (same clear error, before READY): only
    # --check has llama.cpp read it here, so a start does not read the GGUF twice.
    cfg = load_config(path, load_gguf=args.check)
    for w in cfg.warnings:
        print(f"warning: {w}", file=sys.stderr)
    from assistant.assembly import model_config
    llm = model_config(getattr(args, "model", None), cfg.llm)
    if llm.path != cfg.llm.path:                       # --model or $ASSISTANT_MODEL: check that one too
        _check_model(llm, load_gguf=args.check)
        cfg.llm = llm
    if args.check:
        _build_prefix_cache(cfg)
        print(f"{path}: OK")
        return 0
    logging.getLogger().setLevel(cfg.log_level)

    from assistant.assembly import build_assistant
    from assistant.persona import load_persona
    from assistant.service.notify import Notifier
    from assistant.vehicle import LiveVehicle

    notify = Notifier()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    trigger = None
    if cfg.interface == "voice" and cfg.voice.push_to_talk:
        from assistant.speech.loop import SignalTrigger
        trigger = SignalTrigger(signal.SIGUSR1)        # installed before READY: no press is lost
    t0 = time.monotonic()
    persona = load_persona(cfg.persona) if cfg.persona else None
    speaker = mic = None
    if cfg.speaks:                                     # fail on a missing sound card before the car starts
        from assistant.speech.tts import Espeak, SoundSpeaker
        speaker = SoundSpeaker(Espeak.for_persona(persona), hint=_no_sound_hint(cfg, path))
    if cfg.interface == "voice":
        from assistant.speech.audio import Microphone
        mic = Microphone(cfg.voice.device, hint=f"set voice.device in {path}, or interface: stdin or none")
    notify.status("starting: CAN reader")
    vehicle = LiveVehicle.from_bus(cfg.bus, cfg.vehicle, on_status=lambda s: log.info("%s", s))
    vehicle.reader.start()
    from assistant.history.session import HistorySession
    hist = HistorySession.open(vehicle.state)          # $ASSISTANT_DATA_DIR/history.sqlite (docs/history.md)
    notify.status("starting: language model")
    assistant = build_assistant(vehicle.state, None, persona, config=cfg.llm)

    monitor = None
    if cfg.alerts:
        from assistant.speech.loop import speak_alert

        def on_alert(alert):
            log.warning("alert %s: %s", alert.lamp, alert.text)
            print(f"[alert] {alert.text}", flush=True)
            speak_alert(speaker, mic, alert.text, f"alert-{alert.lamp}")
        monitor = assistant.alert_monitor(on_alert).start()

    session = None
    if cfg.interface == "voice":
        from assistant.speech.loop import VoiceSession
        from assistant.speech.stt import Recognizer, load_vocabulary
        notify.status("starting: speech recogniser")
        vocab = load_vocabulary(cfg.voice.vocabulary) if cfg.voice.vocabulary else None
        session = VoiceSession(assistant, Recognizer(cfg.voice.vosk_model), vocab, speaker)
        session.require_wake_word = bool(session.wake_words) and trigger is None

    watched = [w for w in (vehicle.reader, monitor) if w is not None]
    notify.start_watchdog(lambda: all(w.alive for w in watched))
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
        elif session is not None:
            how = ("push-to-talk: SIGUSR1 per utterance" if trigger else
                   f"wake word {session.wake_words[0]!r}" if session.require_wake_word else "always listening")
            log.info("listening on %s (%s)", mic.name, how)
            session.run_microphone(mic, lambda t: log.info("heard %r -> %r%s", t.transcript, t.answer,
                                                           " (barged in)" if t.barged_in else ""),
                                   stop, trigger=trigger, barge_in=cfg.voice.barge_in)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        notify.stopping()
        notify.stop()
        if monitor:
            monitor.stop()
        hist.close()
        vehicle.stop()
    return 0
