"""``assistant voice``: talk to the assistant (microphone, or WAV files where there is no sound card)."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from assistant.commands.common import add_assistant_args, build_assistant, open_vehicle
from assistant.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser("voice", help="voice loop: microphone or WAV files in, speech out",
                       description="Speech in (vosk, optionally limited to a command vocabulary), answer, speech "
                                   "out (espeak-ng in the persona's voice, sentence by sentence). With --input the "
                                   "audio comes from WAV files (16-bit mono) instead of the microphone; each file "
                                   "is one question. With --mic-wav a WAV is played into the live loop as if it "
                                   "were the microphone (wake word, push-to-talk and barge-in, in real time).")
    p.add_argument("--input", "-I", nargs="+", metavar="WAV", help="WAV file(s) or folder(s) of them")
    p.add_argument("--mic-wav", metavar="WAV", help="use this WAV as the microphone (bench: no sound card needed)")
    p.add_argument("--output", "-o", metavar="DIR",
                   help="write spoken answers as WAV files here instead of playing them")
    p.add_argument("--vosk-model", default="vosk-model-small-en-us-0.15",
                   help="vosk model folder (in models/ or a path; default vosk-model-small-en-us-0.15)")
    p.add_argument("--vocabulary", help="command vocabulary: a language in assistant/data/voice (en, ko) or a "
                                        ".yaml; limits recognition to its phrases")
    p.add_argument("--push-to-talk", action="store_true",
                   help="microphone: press Enter before each question (no wake word needed)")
    p.add_argument("--no-barge-in", action="store_true",
                   help="microphone: do not listen while an answer plays (half duplex; for cabins without "
                        "echo cancellation)")
    p.add_argument("--device", help="microphone device (name or index; default: the system default)")
    p.add_argument("--no-alerts", action="store_true", help="do not speak proactive warnings")
    add_assistant_args(p)
    p.set_defaults(run=run)


def _wavs(items: list[str]) -> list[Path]:
    out = []
    for item in map(Path, items):
        if item.is_dir():
            out += sorted(item.glob("*.wav"))
        elif item.exists():
            out.append(item)
        else:
            raise UserError(f"{item}: no such file or folder")
    if not out:
        raise UserError(f"no .wav files in {', '.join(items)}")
    return out


def _check_output(out: Path) -> None:
    """--output must be a folder we can write (created if missing), before the car starts."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--output {out}: is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--output {out}: cannot create the folder: {e.strerror or e}") from None


def run(args: argparse.Namespace) -> int:
    from assistant.speech.audio import AudioError, Microphone, WavMicrophone, read_wav
    from assistant.speech.loop import EnterTrigger, KeepInputsFileSpeaker, VoiceSession, speak_alert
    from assistant.speech.stt import Recognizer, load_vocabulary
    from assistant.speech.tts import Espeak, SoundSpeaker

    if args.input and args.mic_wav:
        raise UserError("--input (one question per file) and --mic-wav (a live stream) exclude each other")
    recognizer = Recognizer(args.vosk_model)            # a missing model fails before the car starts
    files = _wavs(args.input) if args.input else None
    if args.output:
        _check_output(Path(args.output))
    mic = None
    if not files:                                       # so does a missing microphone
        mic = WavMicrophone(args.mic_wav) if args.mic_wav else Microphone(args.device)
    vocabulary = load_vocabulary(args.vocabulary) if args.vocabulary else None
    vehicle = open_vehicle(args)
    from assistant.history.session import for_command
    hist = for_command(args, vehicle)               # the history get_insights reads (docs/history.md)
    try:
        assistant = build_assistant(args, vehicle)
        tts = Espeak.for_persona(assistant.persona)
        if args.output:
            # A WAV as microphone is paced in real time, so the answer "plays" for as long as it
            # would through a sound card and the driver can barge in on it.
            # An answer never replaces a recording: --output may be the --input folder.
            inputs = files or ([Path(args.mic_wav)] if args.mic_wav else [])
            speaker = KeepInputsFileSpeaker(tts, Path(args.output), realtime=bool(mic), keep=inputs)
        else:
            speaker = SoundSpeaker(tts, hint="use --output DIR to write the answers as WAV files")
        session = VoiceSession(assistant, recognizer, vocabulary, speaker)
        monitor = None
        if not args.no_alerts:
            def on_alert(alert):
                print(f"[alert] {alert.text}", flush=True)
                speak_alert(speaker, mic, alert.text, f"alert-{alert.lamp}")
            monitor = assistant.alert_monitor(on_alert)
        if files:
            return _run_files(session, files, monitor, read_wav, AudioError)
        # A live stream: the wake word (the persona's and the vocabulary's), or push-to-talk.
        session.require_wake_word = bool(session.wake_words) and not args.push_to_talk
        trigger = EnterTrigger() if args.push_to_talk else None
        stop = threading.Event()
        if monitor:
            monitor.start()
        print(f"listening on {mic.name}" + (" (press Enter before each question)" if trigger else
                                            f" (say {session.wake_words[0]!r})" if session.require_wake_word
                                            else ""), file=sys.stderr, flush=True)

        def on_turn(t):
            print(f"heard: {t.transcript or '(nothing)'}\nanswer: {t.answer}"
                  + ("\n  (stopped: the driver spoke)" if t.barged_in else ""), flush=True)
            if t.audio_out:
                print(f"  (spoken to {t.audio_out})", flush=True)
        try:
            session.run_microphone(mic, on_turn, stop, trigger=trigger, barge_in=not args.no_barge_in)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            if monitor:
                monitor.stop()
    finally:
        hist.close()
        vehicle.stop()
    return 0


def _run_files(session, files: list[Path], monitor, read_wav, AudioError) -> int:
    """One turn per file. A bad file is reported (name and problem), counted and skipped."""
    failed = 0
    for wav in files:
        if monitor:
            monitor.poll()
        try:
            audio = read_wav(wav)
        except AudioError as e:
            failed += 1
            print(f"{wav.name}: skipped: {e}", flush=True)
            print(f"error: {e}", file=sys.stderr, flush=True)
            continue
        turn = session.handle(audio, wav.stem)
        print(f"{wav.name}: heard: {turn.transcript or '(nothing)'}")
        if turn.question and turn.question != turn.transcript:
            print(f"  question: {turn.question}")
        print(f"  answer: {turn.answer}", flush=True)
        if turn.audio_out:
            print(f"  (spoken to {turn.audio_out})", flush=True)
    if failed:
        print(f"error: {failed} of {len(files)} file(s) could not be read", file=sys.stderr)
        return 2
    return 0
