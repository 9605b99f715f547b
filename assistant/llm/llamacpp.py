"""The one adapter over llama-cpp-python that uses more than its public ``Llama`` API.

:class:`LlamaCpp` owns one ``Llama`` (model + context) and gives :mod:`assistant.llm.model`
what it needs: tokenizing, evaluating a prompt prefix, saving and loading that evaluated prefix
as a llama.cpp session file (``llama_state_save_file`` / ``llama_state_load_file``, raw ctypes:
``Llama.save_state()`` keeps the state in memory only, and its pickled form carries the logits
as well), and streaming completions. Everything version-dependent in the bindings (the
``_requires_eval`` flag, the model's ``add_bos_token``, the ctypes calls) is here and nowhere
else; ``llm`` is the ``Llama`` itself, for its public API only.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Iterator


class LlamaCpp:
    """One llama.cpp model and context. Raises ``ImportError`` when llama-cpp-python is missing
    and what ``Llama`` raises (``ValueError``, ``RuntimeError``, ``OSError``) on a bad file."""

    def __init__(self, path: Path, *, n_ctx: int, n_batch: int, n_threads: int):
        import llama_cpp
        self._lib = llama_cpp
        self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_batch=n_batch,
                                   n_threads=n_threads, verbose=False)

    @property
    def version(self) -> str:
        """llama-cpp-python's version (session files are only valid for the one that wrote them)."""
        return self._lib.__version__

    @property
    def metadata(self) -> dict:
        return dict(self.llm.metadata or {})

    def n_ctx(self) -> int:
        return self.llm.n_ctx()

    def close(self) -> None:
        """Free the model and context now (not in ``__del__`` at interpreter shutdown, where
        llama-cpp-python's own teardown can fail with "'NoneType' object is not callable")."""
        self.llm.close()

    @property
    def n_tokens(self) -> int:
        """Tokens in the context (evaluated or restored)."""
        return self.llm.n_tokens

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def bos_tokens(self) -> list[int]:
        """``[BOS]`` when the model wants its prompts to start with one, else ``[]``."""
        try:
            wants = bool(self.llm._model.add_bos_token()) and self.llm.token_bos() >= 0
        except Exception:  # noqa: BLE001 - older bindings
            wants = False
        return [self.llm.token_bos()] if wants else []

    # -- the evaluated prefix ------------------------------------------------------------------

    def starts_with(self, tokens: list[int]) -> bool:
        """Whether the context already holds ``tokens`` at its start."""
        n = len(tokens)
        return self.llm.n_tokens >= n and list(self.llm.input_ids[:n]) == tokens

    def evaluate(self, tokens: list[int]) -> None:
        """Empty the context and evaluate ``tokens``."""
        self.llm.reset()
        self.llm.eval(tokens)

    def save_session(self, path: Path, tokens: list[int]) -> bool:
        """Write the context (which holds ``tokens``) to a llama.cpp session file."""
        arr = (self._lib.llama_token * len(tokens))(*tokens)
        return bool(self._lib.llama_state_save_file(self.llm.ctx, str(path).encode(), arr, len(tokens)))

    def load_session(self, path: Path, tokens: list[int]) -> bool:
        """Restore a session file that holds exactly ``tokens``; False (context empty) when it
        cannot be read or holds other tokens."""
        cap = len(tokens) + 8
        out = (self._lib.llama_token * cap)()
        n = ctypes.c_size_t(0)
        self.llm.reset()
        ok = self._lib.llama_state_load_file(self.llm.ctx, str(path).encode(), out, cap, ctypes.byref(n))
        if not ok or list(out[: n.value]) != tokens:
            self.llm.reset()
            return False
        self.llm.input_ids[: len(tokens)] = tokens
        self.llm.n_tokens = len(tokens)
        self.llm._requires_eval = True      # restored, not decoded here: generate() decodes the last token again
        return True

    # -- completion ----------------------------------------------------------------------------

    def stream(self, tokens: list[int], *, max_tokens: int, stop: list[str], grammar=None) -> Iterator[str]:
        """Greedy completion of ``tokens``, piece by piece (llama.cpp reuses the common prefix)."""
        for chunk in self.llm.create_completion(tokens, max_tokens=max_tokens, temperature=0.0, top_k=1,
                                                stream=True, stop=stop, grammar=grammar):
            piece = chunk["choices"][0]["text"]
            if piece:
                yield piece

    def grammar(self, gbnf: str):
        return self._lib.LlamaGrammar.from_string(gbnf, verbose=False)
