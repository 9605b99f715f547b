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
                                   "audio comes from WAV files (16-bit mono) instead of the microphone.")
    p.add_argument("--input", "-I", nargs="+", metavar="WAV", help="WAV file(s) or folder(s) of them")
    p.add_argument("--output", "-o", metavar="DIR",
                   help="write spoken answers as WAV files here instead of playing them")
    p.add_argument("--vosk-model", default="vosk-model-small-en-us-0.15",
                   help="vosk model folder (in models/ or a path; default vosk-model-small-en-us-0.15)")
    p.add_argument("--vocabulary", help="command vocabulary: a language in assistant/data/voice (en, ko) or a "
                                        ".yaml; limits recognition to its phrases")
    p.add_argument("--push-to-talk", action="store_true", help="microphone: press Enter, then speak")
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


def run(args: argparse.Namespace) -> int:
    from assistant.speech.audio import Microphone, read_wav
    from assistant.speech.loop import VoiceSession
    from assistant.speech.stt import Recognizer, load_vocabulary
    from assistant.speech.tts import Espeak, FileSpeaker, SoundSpeaker

    recognizer = Recognizer(args.vosk_model)            # a missing model fails before the car starts
    files = _wavs(args.input) if args.input else None
    mic = None if files else Microphone(args.device)    # so does a missing microphone
    vocabulary = load_vocabulary(args.vocabulary) if args.vocabulary else None
    vehicle = open_vehicle(args)
    try:
        assistant = build_assistant(args, vehicle)
        persona = assistant.persona
        if vocabulary and persona and persona.wake_word and persona.wake_word not in vocabulary.wake_words:
            vocabulary.wake_words.insert(0, persona.wake_word)      # the persona's wake word wakes it too
        tts = Espeak.for_persona(assistant.persona)
        if args.output:
            speaker = FileSpeaker(tts, Path(args.output))
            speak = lambda text, name: print(f"  (spoken to {speaker.say(text, name)})", flush=True)  # noqa: E731
        else:
            speaker = SoundSpeaker(tts)
            speak = lambda text, name: speaker.say(text)  # noqa: E731
        session = VoiceSession(assistant, recognizer, vocabulary, speak)
        monitor = None
        if not args.no_alerts:
            def on_alert(alert):
                print(f"[alert] {alert.text}", flush=True)
                speak(alert.text, f"alert-{alert.lamp}")
            monitor = assistant.alert_monitor(on_alert)
        if files:
            for wav in files:
                if monitor:
                    monitor.poll()
                turn = session.handle(read_wav(wav), wav.stem)
                print(f"{wav.name}: heard: {turn.transcript or '(nothing)'}")
                if turn.question and turn.question != turn.transcript:
                    print(f"  question: {turn.question}")
                print(f"  answer: {turn.answer}", flush=True)
            return 0
        # Microphone: wake word (vocabulary) or push-to-talk.
        session.require_wake_word = bool(vocabulary and vocabulary.wake_words) and not args.push_to_talk
        stop = threading.Event()
        if monitor:
            monitor.start()
        print(f"listening on {mic.name}" + (" (press Enter, then speak)" if args.push_to_talk else
                                            f" (say {vocabulary.wake_words[0]!r})" if session.require_wake_word
                                            else ""), file=sys.stderr, flush=True)
        try:
            while not stop.is_set():
                if args.push_to_talk and not sys.stdin.readline():
                    break
                session.run_microphone(mic, args.push_to_talk,
                                       lambda t: print(f"heard: {t.transcript}\nanswer: {t.answer}", flush=True),
                                       stop)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            if monitor:
                monitor.stop()
    finally:
        vehicle.stop()
    return 0
