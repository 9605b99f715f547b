"""The assist pipeline for one question: route -> tools -> safety -> phrase -> grounding check.

Stages talk through :class:`Answer` fields and optional callbacks (``on_event``), so the CLI,
the dialogue runner and the voice loop all drive the same code:

1. **route**: deterministic matcher / follow-up context / model constrained to tool names;
2. **tools**: typed reads of the live vehicle state (plus the warning lamps, every turn, for safety);
3. **safety**: fixed approved wording for critical lamps goes first, whatever the model says;
4. **render**: a deterministic rendering of the tool results (the facts, and the fallback);
5. **phrase**: the model rewords the facts; the grounding check accepts it or the rendering is used.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel

from assistant.answer import grounding
from assistant.answer.render import Rendering, Style, render, safety_sentences
from assistant.errors import UserError
from assistant.intent.router import Context, Route, route
from assistant.state.store import VehicleState
from assistant.tools.schemas import WarningsResult
from assistant.tools.vehicle import TOOLS, ToolError, VehicleView

MAX_QUESTION_CHARS = 500
KEY_NUMBER_RE = re.compile(r"(-?\d+(?:[.,]\d+)?)\s?(?:mph|km|mi|kPa|bar|psi|°C|°F|%|V\b|days?\b|mpg|l/100km)")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")



@dataclass
class ToolRun:
    name: str
    arguments: dict[str, Any]
    result: BaseModel | None
    reason: str = "asked"           # asked | safety
    error: str | None = None

    def to_json(self) -> dict:
        d = {"name": self.name, "arguments": self.arguments,
             "result": self.result.model_dump(mode="json") if self.result is not None else None}
        if self.reason != "asked":
            d["reason"] = self.reason
        if self.error:
            d["error"] = self.error
        return d


@dataclass
class Answer:
    question: str
    text: str = ""
    tools: list[ToolRun] = field(default_factory=list)
    grounded: bool = True
    fallback: bool = False
    route: str = ""
    driving: str = "parked"                   # parked | moving (from Vehicle.Speed): picks the length cap
    safety: list[str] = field(default_factory=list)
    model_text: str | None = None             # what the model said, accepted or not
    problems: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"question": self.question, "answer": self.text, "tools": [t.to_json() for t in self.tools],
                "grounded": self.grounded, "fallback": self.fallback, "route": self.route, "driving": self.driving,
                "safety": self.safety, "model_text": self.model_text, "grounding_problems": self.problems,
                "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()}}


class Assistant:
    def __init__(self, state: VehicleState, model=None, style: Style | None = None, name: str = "Nova",
                 tone: str = "", phrase_with_model: bool = True, persona=None):
        self.persona = persona
        if persona is not None:
            style = style or persona.style()
            name, tone = persona.name, persona.tone_text()
        self.view = VehicleView.of(state)
        self.model = model
        self.base_style = style or Style()
        self.context = Context()
        self.phrase_with_model = phrase_with_model and model is not None
        self.dialect = None
        self._model_route = None
        if model is not None:
            from assistant.llm.dialects import dialect_for
            self.dialect = dialect_for(model, name, tone)
            mode = model.cfg.route_unclear
            if mode == "always" or (mode == "auto" and self.dialect.name != "routed"):
                self._model_route = self.dialect.route

    # -- helpers for the voice loop and alerts ----------------------------------------------

    def style_phrase(self, key: str) -> str:
        return self.base_style.phrase(key)

    def greeting(self) -> str:
        return (self.persona.greeting if self.persona and self.persona.greeting
                else self.base_style.phrase("greeting"))

    def alert_monitor(self, on_alert):
        """A proactive-alert monitor over this car's state, in this persona's language and policy."""
        from assistant.alerts import AlertMonitor
        return AlertMonitor.for_persona(self.view.state, self.persona, self.base_style, on_alert)

    # -- stages ------------------------------------------------------------------------------

    def _run_tools(self, r: Route) -> list[ToolRun]:
        runs = []
        for call in r.calls:
            tool = TOOLS[call.name]
            try:
                runs.append(ToolRun(call.name, dict(call.arguments), tool.call(self.view, call.arguments)))
            except (ToolError, ValueError) as e:
                runs.append(ToolRun(call.name, dict(call.arguments), None, error=str(e)))
        if not any(t.name == "get_warnings" for t in runs) and any(
                n.startswith("Vehicle.Telltale.") for n in self.view.capabilities):
            runs.append(ToolRun("get_warnings", {}, TOOLS["get_warnings"].call(self.view, {}), reason="safety"))
        return runs

    def _style(self, r: Route) -> Style:
        style = Style(**self.base_style.__dict__)
        style.brand_wording_used = False        # a flag of this turn's rendering, not of the session
        units = dict(self.context.units)
        if r.unit_override:
            from assistant.intent.router import _dimension
            units[_dimension(r.unit_override)] = r.unit_override
        for dim, unit in units.items():
            setattr(style, dim, unit)
        return style

    # -- one question --------------------------------------------------------------------------

    def ask(self, question: str, on_event: Callable[[str, Any], None] | None = None) -> Answer:
        emit = on_event or (lambda kind, data: None)
        question = validate_question(question, self.model)
        t0 = time.perf_counter()
        ans = Answer(question)
        ms = lambda: (time.perf_counter() - t0) * 1000  # noqa: E731

        if self.persona is not None and self.persona.declines(question):
            r = Route([], "off_topic")
        else:
            r = route(question, self.context, self._model_route)
        ans.route = r.source
        ans.timings_ms["route"] = ms()
        ans.tools = self._run_tools(r)
        ans.timings_ms["tools"] = ms()
        for t in ans.tools:
            emit("tool", t)

        style = self._style(r)
        warnings = next((t.result for t in ans.tools if isinstance(t.result, WarningsResult)), None)
        # Approved wording in the answer's language; a persona cannot change it. A critical lamp
        # that cannot be read now but was on when last read keeps it, said as such.
        ans.safety = safety_sentences(warnings, style) if warnings else []
        if ans.safety:                           # first words out, before the model runs
            ans.timings_ms["first_output"] = ms()
            emit("text", " ".join(ans.safety))

        asked = [(t.name, t.result) for t in ans.tools if t.reason == "asked" and t.result is not None]
        rendering = render(asked, style) if asked else Rendering()
        if not asked:
            rendering.add(style.phrase("decline" if r.source == "off_topic" else "unclear"))
        ans.driving = self._driving_state()
        rendering = self._cap(rendering, ans.driving)

        body, ans.fallback = rendering.text, True
        # Brand wording is said as written (the model would paraphrase it away); the small
        # default model only phrases English.
        if self.phrase_with_model and asked and rendering.text and style.locale == "en" \
                and not style.brand_wording_used:
            runs = [t for t in ans.tools if t.reason == "asked" and t.result is not None]
            body, ans.fallback = self._phrase(question, runs, rendering, ans, ms)
        ans.timings_ms.setdefault("first_token", ms())
        ans.timings_ms.setdefault("first_output", ms())
        ans.text = " ".join(s for s in ans.safety + [body] if s)
        if not ans.safety:
            emit("text", body)
        elif body:
            emit("text", " " + body)
        ans.timings_ms["total"] = ms()
        self.context.remember(r)
        return ans

    def _driving_state(self) -> str:
        speed = self.view.state.get("Vehicle.Speed")
        limit = self.persona.answer_length.moving_above_kmh if self.persona else 5.0
        return "moving" if speed.fresh and speed.value is not None and speed.value > limit else "parked"

    def _limits(self, driving: str) -> tuple[int, int] | None:
        if self.persona is None:
            return None
        cap = getattr(self.persona.answer_length, driving)
        return cap.max_words, cap.max_sentences

    def _cap(self, rendering: Rendering, driving: str) -> Rendering:
        """Answer length by driving state (persona caps): whole sentences, the first always kept,
        and never a sentence that says what cannot be read or a lamp that is on. The safety
        wording in front is never cut (it is not part of the rendering)."""
        limits = self._limits(driving)
        return rendering.capped(*limits) if limits else rendering

    def _cap_text(self, text: str, driving: str) -> str:
        """The same cap over model text (which has no sentence kinds): the grounding check then
        sees exactly what would be said, so a cut that drops a fact fails the check."""
        limits = self._limits(driving)
        if limits is None or not text:
            return text
        return Rendering(SENTENCE_END.split(text)).capped(*limits).text

    def _phrase(self, question: str, runs: list[ToolRun], rendering: Rendering, ans: Answer, ms) -> tuple[str, bool]:
        first = {}

        def on_token(piece: str) -> None:
            first.setdefault("t", ms())

        c = self.dialect.phrase(question, runs, rendering.text, on_token=on_token)
        ans.timings_ms["first_token"] = first.get("t", ms())
        candidate = self._cap_text(" ".join(SENTENCE_END.split(c.text.strip())[:2]).strip(), ans.driving)
        ans.model_text = candidate
        results = [t.result for t in ans.tools if t.result is not None]
        keys = [float(x.replace(",", ".")) for x in KEY_NUMBER_RE.findall(rendering.text)]
        verdict = grounding.check(candidate, results, facts=rendering.text, key_numbers=keys,
                                  cant_read=rendering.cant_read, fine=rendering.fine,
                                  critical=bool(ans.safety), degenerate=c.text)
        if getattr(c, "truncated", False):
            verdict.grounded = False
            verdict.problems.insert(0, f"the model took too long ({c.total_s:.1f} s, llm.max_answer_s)")
        if candidate and verdict.grounded:
            return candidate, False
        ans.problems = verdict.problems or ["the model gave no answer"]
        return rendering.text, True


def validate_question(question: Any, model=None) -> str:
    if isinstance(question, bytes):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UserError(f"the question is not valid UTF-8 (byte {e.start})") from None
    if not isinstance(question, str):
        raise UserError("the question must be text")
    if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in question):   # undecodable argv bytes (surrogateescape)
        raise UserError("the question is not valid UTF-8 text")
    question = " ".join(question.split())
    if not question:
        raise UserError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise UserError(f"the question is too long ({len(question)} characters; at most {MAX_QUESTION_CHARS})")
    if model is not None:
        n = len(model.tokenize(question))
        room = model.n_ctx() - len(model.prefix_tokens) - 200
        if n > room:
            raise UserError(f"the question is too long for the model context ({n} tokens; at most {room})")
    return question
