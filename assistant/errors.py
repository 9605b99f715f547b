"""Errors the user can fix. ``assistant.cli`` catches :class:`UserError` once and prints it as
``error: …`` (no traceback), exit status 2; ``assistant serve`` exits 2 on one too, so systemd
does not restart a unit whose config is wrong.

Every user-facing error is one of these (each stays importable where it is defined)::

    UserError                       assistant.errors
    ├── ConfigError                 assistant.configfile   a user file (scenario, persona, suite,
    │                                                      vehicle map, config, vocabulary) is
    │                                                      wrong: ``file:line: field: problem``
    ├── DbcError                    assistant.can.dbc      a DBC file is refused: ``file:line: problem``
    ├── BusOpenError                assistant.can.bus      the CAN interface cannot be opened
    ├── ModelError                  assistant.llm.model    a GGUF is missing, corrupt or does not fit
    ├── AudioError                  assistant.speech.audio a WAV file, microphone or sound library
    ├── SpeechError                 assistant.speech.stt   vosk or its model folder
    ├── TTSError                    assistant.speech.tts   espeak-ng or the audio output
    └── RecordingError              assistant.recording    a CAN log for --log, or an --at outside it

``ConfigError`` is also a ``ValueError`` and ``BusOpenError`` a ``RuntimeError``, as they were.
Errors that are not the user's to fix (``ToolError`` from a model's bad tool call,
``UnitError``, the YAML ``LimitError`` that ``read_yaml`` turns into a ``ConfigError``, the
pipeline's per-stage ``StageError`` s) are not in the tree: they are handled where they arise.
"""


class UserError(Exception):
    """Something the user can fix; ``str()`` is the message to print (it may hold several
    lines, one per problem)."""
