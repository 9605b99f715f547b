"""Load a GGUF chat model with llama-cpp-python and run completions over a cached prefix.

* Any GGUF named in config loads; a missing, corrupt or incompatible file gives a
  :class:`ModelError` naming the file and what to do.
* The static part of every prompt (instructions, persona, tool list, examples) is one
  *prefix*. It is evaluated once; llama.cpp reuses its KV cache for every later prompt that
  starts with it (``Llama.generate`` keeps the longest common prefix). The evaluated prefix is
  also saved as a llama.cpp session file, so the next process start loads it from disk instead
  of evaluating it again (start-to-ready <= 2 s).
* Completions stream token by token, optionally constrained by a GBNF grammar.

Everything that touches llama-cpp-python beyond its public ``Llama`` API (session files,
private flags) is in :class:`assistant.llm.llamacpp.LlamaCpp`; this module uses only that.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant import paths
from assistant.errors import UserError
from assistant.llm.llamacpp import LlamaCpp

log = logging.getLogger(__name__)

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelError(UserError):
    pass


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(DEFAULT_MODEL_FILE, description="GGUF file; relative paths are looked up in models/")
    n_ctx: int = Field(4096, ge=256, le=131072, description="context tokens: the static prompt (the capable model's tool schemas and worked examples: ~2,900 tokens) plus room for a turn")
    n_threads: int | None = Field(None, ge=1, description="default: all cores")
    n_batch: int = Field(256, ge=16)
    tool_format: str = Field("auto", description="auto | routed | hermes | llama3 (native tool-call formats)")
    route_unclear: Literal["auto", "always", "never"] = Field(
        "auto", description="let the model pick tools for questions the matcher cannot route; auto: only with a "
                            "native tool-call format (measured: the 135M default picks wrong more often than right)")
    phrase: Literal["auto", "model", "rendered"] = Field(
        "auto", description="who words the answer: the model, or the rendered text as is; auto: the model when "
                            "it is a small routed-dialect model (fast), the rendering for native tool-calling models "
                            "(measured on 2 CPU cores: a 1.5B model needs 5-8 s to phrase, over llm.max_answer_s)")
    max_tool_steps: int = Field(1, ge=1, le=4, description="model steps of the tool-calling loop for a turn the "
                                "model routed: 1 = its first calls only; 2-4 let it call further tools after seeing "
                                "the first results (each step evaluates the results: ~3-6 s on 2 CPU cores, well "
                                "under 1 s on a GPU/NPU)")
    max_answer_tokens: int = Field(60, ge=8, le=512)
    max_answer_s: float = Field(6.0, gt=0, le=120, description="wall-clock bound on one model call; a call "
                                "cut short is marked truncated and its text is not used as an answer")
    prefix_cache_dir: str | None = Field(None, description="where evaluated prompt prefixes are saved; "
                                                           "default $ASSISTANT_CACHE_DIR or ~/.cache/assistant")

    def resolved_path(self) -> Path:
        """``path`` as given if it is there (or absolute), else in ``models/``, where a bare name
        may leave out ``.gguf`` (``--model SmolLM2-135M-Instruct.Q4_1``)."""
        p = Path(self.path).expanduser()
        if not p.is_absolute() and not p.exists():
            p = paths.MODELS_DIR / p
            if not p.exists() and p.suffix.lower() != ".gguf" and p.with_name(p.name + ".gguf").is_file():
                p = p.with_name(p.name + ".gguf")
        return p


@dataclass
class Completion:
    text: str
    tokens: int
    first_token_s: float | None
    total_s: float
    prompt_tokens_evaluated: int
    timings: dict = field(default_factory=dict)
    truncated: bool = False        # stopped by the time bound, not by the model


def _check_file(p: Path) -> None:
    if not p.exists():
        raise ModelError(f"model file {p} not found: run ./setup.sh (installs the default model) or put a "
                         f"GGUF chat model in {paths.MODELS_DIR} and name it in the config (llm.path)")
    if not p.is_file():
        raise ModelError(f"model path {p} is not a file: name a .gguf file (llm.path, --model or $ASSISTANT_MODEL)")
    with open(p, "rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise ModelError(f"{p} is not a GGUF model file (starts with {magic!r}, expected b'GGUF'); "
                         "re-run ./setup.sh or convert the model with llama.cpp's convert_hf_to_gguf.py")


class LocalModel:
    """One llama.cpp context with a reusable prompt prefix."""

    def __init__(self, cfg: ModelConfig | None = None):
        self.cfg = cfg or ModelConfig()
        self.path = self.cfg.resolved_path()
        _check_file(self.path)
        t0 = time.perf_counter()
        try:
            self.cpp = LlamaCpp(self.path, n_ctx=self.cfg.n_ctx, n_batch=self.cfg.n_batch,
                                n_threads=self.cfg.n_threads or os.cpu_count())
        except ImportError as e:
            raise ModelError(f"llama-cpp-python is not installed ({e}); run ./setup.sh") from None
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelError(f"{self.path} could not be loaded by llama.cpp ({e}): the file is corrupt, "
                             "truncated or of an unsupported architecture; re-run ./setup.sh or pick "
                             "another GGUF") from None
        self.load_s = time.perf_counter() - t0
        self.llm = self.cpp.llm        # the llama_cpp.Llama, for its public API (tokenizer, tests, benches)
        self.metadata = self.cpp.metadata
        self.prefix_tokens: list[int] = []
        self.prefix_source = ""        # "disk", "evaluated" or ""

    # -- identity --------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.metadata.get("general.name") or self.path.stem

    @property
    def chat_template(self) -> str:
        return self.metadata.get("tokenizer.chat_template", "")

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        return self.cpp.tokenize(text, special=special)

    def n_ctx(self) -> int:
        return self.cpp.n_ctx()

    # -- prefix cache ----------------------------------------------------------------------

    def _cache_file(self, tokens: list[int]) -> Path:
        st = self.path.stat()
        h = hashlib.sha256()
        for part in (str(self.path.resolve()), str(st.st_size), str(int(st.st_mtime)), str(self.cfg.n_ctx),
                     self.cpp.version, ",".join(map(str, tokens))):
            h.update(part.encode())
            h.update(b"\0")
        base = self.cfg.prefix_cache_dir or os.environ.get("ASSISTANT_CACHE_DIR") or \
            Path.home() / ".cache" / "assistant"
        return Path(base) / f"prefix-{h.hexdigest()[:24]}.session"

    def set_prefix(self, text: str) -> None:
        """Make ``text`` the evaluated prefix: from the disk cache if there, else evaluate and save."""
        tokens = self.cpp.bos_tokens() + self.tokenize(text)
        if len(tokens) >= self.n_ctx() - 64:
            raise ModelError(f"the static prompt ({len(tokens)} tokens) does not fit the context "
                             f"(n_ctx {self.n_ctx()}); raise llm.n_ctx or shorten the persona")
        self.prefix_tokens = tokens
        if self.cpp.starts_with(tokens):
            return
        cache = self._cache_file(tokens)
        if cache.is_file():
            if self.cpp.load_session(cache, tokens):
                self.prefix_source = "disk"
                return
            log.warning("prompt cache %s is unusable; evaluating the prefix again", cache)
        self.cpp.evaluate(tokens)
        self.prefix_source = "evaluated"
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")   # two processes may build it at once
            if self.cpp.save_session(tmp, tokens):
                tmp.replace(cache)
        except OSError as e:   # a read-only cache dir only costs start-up time
            log.warning("could not save the prompt prefix to %s: %s", cache, e)

    # -- completion ------------------------------------------------------------------------

    def stream(self, suffix: str, max_tokens: int | None = None, stop: list[str] | None = None,
               grammar=None) -> Iterator[str]:
        """Stream completion pieces for prefix + suffix (the prefix's KV cache is reused)."""
        tokens = self.prefix_tokens + self.tokenize(suffix)
        room = self.n_ctx() - len(tokens)
        if room < 8:
            raise ModelError(f"prompt of {len(tokens)} tokens leaves no room in the {self.n_ctx()}-token context")
        yield from self.cpp.stream(tokens, max_tokens=min(max_tokens or self.cfg.max_answer_tokens, room),
                                   stop=stop or [], grammar=grammar)

    def complete(self, suffix: str, max_tokens: int | None = None, stop: list[str] | None = None, grammar=None,
                 on_token: Callable[[str], None] | None = None, max_s: float | None = None,
                 until: Callable[[str], bool] | None = None) -> Completion:
        """One completion, bounded by ``max_tokens`` and by ``max_s`` seconds of wall clock
        (default ``llm.max_answer_s``): a loaded CPU must not keep the driver waiting.
        ``until(text so far)`` returning True ends it early (not truncated): the caller knows the
        rest, e.g. a grammar that allows only one way on."""
        t0 = time.perf_counter()
        deadline = t0 + (max_s or self.cfg.max_answer_s)
        before = self.cpp.n_tokens
        first = None
        parts = []
        n = 0
        truncated = False
        pieces = self.stream(suffix, max_tokens, stop, grammar)
        for piece in pieces:
            if first is None:
                first = time.perf_counter() - t0
            parts.append(piece)
            n += 1
            if on_token:
                on_token(piece)
            if until is not None and until("".join(parts)):
                pieces.close()
                break
            if time.perf_counter() > deadline:
                truncated = True
                pieces.close()           # stops llama.cpp's generation loop
                break
        total = time.perf_counter() - t0
        evaluated = len(self.prefix_tokens) + len(self.tokenize(suffix)) - min(before, len(self.prefix_tokens))
        if truncated:
            log.warning("model call stopped after %.1f s (llm.max_answer_s) with %d tokens", total, n)
        return Completion("".join(parts), n, first, total, evaluated, truncated=truncated)

    def grammar(self, gbnf: str):
        return self.cpp.grammar(gbnf)
