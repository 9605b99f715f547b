"""The assist pipeline for one question, as typed stages with start and end events.

Like Home Assistant's assist pipeline: a :class:`Stage` enum, an event at the start and end of
every stage, one error type per stage. Each stage is a function from the value the stage
before it produced to its own:

===========  ===================================  =========================================
stage        in -> out                            where the work is
===========  ===================================  =========================================
``route``    question -> :class:`Route`           ``assistant/intent/`` (matcher, follow-ups,
                                                  the model for unclear questions)
``tools``    Route -> :class:`ToolRuns`           ``assistant/tools/`` (typed reads; the
                                                  warning lamps every turn, for safety)
``safety``   ToolRuns -> :class:`Safety`          approved wording for critical lamps, first
``render``   ToolRuns -> :class:`Rendering`       ``assistant/answer/render.py`` (text + facts
                                                  as data, capped to the persona's length)
``phrase``   Rendering -> :class:`Candidate`      ``assistant/llm/`` (the model rewords it)
``ground``   Candidate -> :class:`Verdict`        ``assistant/answer/grounding.py``
===========  ===================================  =========================================

:meth:`Assistant.ask` chains them and emits :class:`Event` s (``on_event``); the
:class:`Answer` (``ask --json``'s contract, ``timings_ms``), ``chat --show-tools`` and the
dialogue checks read what the events carry. A model that fails in ``route`` or ``phrase``
(:class:`RouteError`, :class:`PhraseError`) costs that stage only: the turn goes on without it
and the error is an event and a grounding problem, never a crash.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from pydantic import BaseModel

from assistant.answer import grounding
from assistant.answer.render import Rendering, Style, render, safety_sentences
from assistant.errors import UserError
from assistant.intent.router import Context, Route, route
from assistant.state import units
from assistant.state.store import VehicleState
from assistant.tools.schemas import ToolCall, WarningsResult
from assistant.tools.vehicle import TOOLS, ToolError, VehicleView

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# ----------------------------------------------------------------------------- stages and events

class Stage(str, Enum):
    ROUTE = "route"
    TOOLS = "tools"
    SAFETY = "safety"
    RENDER = "render"
    PHRASE = "phrase"
    GROUND = "ground"


class EventType(str, Enum):
    RUN_START = "run-start"
    STAGE_START = "stage-start"
    STAGE_END = "stage-end"       # data: the stage's value
    TOOL = "tool"                 # data: a ToolRun
    TOKEN = "token"               # the model's first token of the answer (once)
    TEXT = "text"                 # data: words for the listener, in order
    ERROR = "error"               # data: the StageError; the turn went on without that stage
    RUN_END = "run-end"           # data: the Answer


@dataclass(frozen=True)
class Event:
    type: EventType
    t_ms: float                   # since the question was taken
    stage: Stage | None = None
    data: Any = None


class StageError(Exception):
    """A stage failed. ``stage`` says which; the message says why."""
    stage: Stage


class RouteError(StageError):
    stage = Stage.ROUTE


class ToolsError(StageError):
    stage = Stage.TOOLS


class SafetyError(StageError):
    stage = Stage.SAFETY


class RenderError(StageError):
    stage = Stage.RENDER


class PhraseError(StageError):
    stage = Stage.PHRASE


class GroundError(StageError):
    stage = Stage.GROUND


# ----------------------------------------------------------------------------- the values between stages

@dataclass(frozen=True)
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


@dataclass(frozen=True)
class ToolRuns:
    runs: tuple[ToolRun, ...]

    @property
    def asked(self) -> list[ToolRun]:
        """The calls the question asked for that returned a result, in the question's order."""
        return [t for t in self.runs if t.reason == "asked" and t.result is not None]

    @property
    def warnings(self) -> WarningsResult | None:
        return next((t.result for t in self.runs if isinstance(t.result, WarningsResult)), None)


@dataclass(frozen=True)
class Safety:
    sentences: tuple[str, ...]      # approved wording, in the answer's language, said first


@dataclass(frozen=True)
class Candidate:
    text: str                       # the model's wording, cut to two sentences and the length cap
    first_token_ms: float | None
    truncated: bool = False
    total_s: float = 0.0
    raw: str = ""                   # everything the model produced


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
    events: list[Event] = field(default_factory=list, repr=False)

    def to_json(self) -> dict:
        return {"question": self.question, "answer": self.text, "tools": [t.to_json() for t in self.tools],
                "grounded": self.grounded, "fallback": self.fallback, "route": self.route, "driving": self.driving,
                "safety": self.safety, "model_text": self.model_text, "grounding_problems": self.problems,
                "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
                "stages_ms": {e.stage.value: round(e.t_ms, 1) for e in self.events
                              if e.type is EventType.STAGE_END}}


def timings_from(events: list[Event]) -> dict[str, float]:
    """``timings_ms`` as the events tell it: when routing and the tools were done, the model's
    first token (when no model ran: when the answer text was ready), the first words out to the
    listener, and the end."""
    end = {e.stage: e.t_ms for e in events if e.type is EventType.STAGE_END}
    first = lambda kind: next((e.t_ms for e in events if e.type is kind), None)  # noqa: E731
    text_ready = end.get(Stage.GROUND, end.get(Stage.RENDER, 0.0))
    t = {"route": end.get(Stage.ROUTE, 0.0), "tools": end.get(Stage.TOOLS, 0.0)}
    t["first_token"] = first(EventType.TOKEN) or text_ready
    t["first_output"] = first(EventType.TEXT) or text_ready
    t["total"] = first(EventType.RUN_END) or text_ready
    return t


class _Run:
    """One turn's event log and clock; ``stage()`` runs a stage between its start and end events
    and wraps what escapes it in the stage's error type."""

    ERRORS = {e.stage: e for e in StageError.__subclasses__()}      # one error type per stage

    def __init__(self, on_event: Callable[[Event], None] | None):
        self.t0 = time.perf_counter()
        self.events: list[Event] = []
        self._on_event = on_event

    def ms(self) -> float:
        return (time.perf_counter() - self.t0) * 1000

    def emit(self, type: EventType, stage: Stage | None = None, data: Any = None) -> None:
        e = Event(type, self.ms(), stage, data)
        self.events.append(e)
        if self._on_event is not None:
            self._on_event(e)

    def stage(self, stage: Stage, fn: Callable[..., Any], *args: Any) -> Any:
        self.emit(EventType.STAGE_START, stage)
        try:
            value = fn(*args)
        except (StageError, UserError):
            raise
        except Exception as e:  # noqa: BLE001 - a stage's failure, typed and said
            raise self.ERRORS[stage](f"{stage.value}: {type(e).__name__}: {e}") from e
        self.emit(EventType.STAGE_END, stage, value)
        return value


# ----------------------------------------------------------------------------- the assistant

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
            phrase = model.cfg.phrase
            if phrase == "rendered" or (phrase == "auto" and self.dialect.name != "routed"):
                self.phrase_with_model = False

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

    # -- one question --------------------------------------------------------------------------

    def ask(self, question: str, on_event: Callable[[Event], None] | None = None) -> Answer:
        """Answer one question: the stages in order, each fed the value of the one before."""
        question = validate_question(question, self.model)
        run = _Run(on_event)
        run.emit(EventType.RUN_START, data=question)
        r = run.stage(Stage.ROUTE, self._route, question, run)
        tools = run.stage(Stage.TOOLS, self._tools, r)
        for t in tools.runs:
            run.emit(EventType.TOOL, Stage.TOOLS, t)
        style = self._style(r)
        safety = run.stage(Stage.SAFETY, _safety, tools, style)
        if safety.sentences:                     # first words out, before the model runs
            run.emit(EventType.TEXT, Stage.SAFETY, " ".join(safety.sentences))
        tools = self._loop(run, question, r, tools)
        driving = self._driving_state()
        rendering = run.stage(Stage.RENDER, self._render, r, tools, style, driving, safety)
        candidate = verdict = None
        # Brand wording is said as written (the model would paraphrase it away); the small
        # default model only phrases English.
        if self.phrase_with_model and tools.asked and rendering.text and style.locale == "en" \
                and not rendering.brand:
            candidate = self._phrase_stage(run, question, tools, rendering, driving)
            if candidate is not None:
                verdict = run.stage(Stage.GROUND, self._ground, candidate, rendering, safety)
        accepted = candidate is not None and verdict is not None and verdict.grounded and candidate.text
        body = candidate.text if accepted else rendering.text
        if body:
            run.emit(EventType.TEXT, Stage.GROUND if accepted else Stage.RENDER,
                     (" " if safety.sentences else "") + body)
        ans = Answer(question, text=" ".join(x for x in list(safety.sentences) + [body] if x), tools=list(tools.runs),
                     grounded=True, fallback=not accepted, route=r.source, driving=driving,
                     safety=list(safety.sentences), model_text=candidate.text if candidate else None,
                     problems=[] if accepted else self._problems(candidate, verdict, run.events))
        run.emit(EventType.RUN_END, data=ans)
        ans.events = run.events
        ans.timings_ms = timings_from(run.events)
        self.context.remember(r, question)
        return ans

    # -- the stages ----------------------------------------------------------------------------

    def _route(self, question: str, run: _Run) -> Route:
        if self.persona is not None and self.persona.declines(question):
            return Route([], "off_topic")
        model_route = self._model_route
        if model_route is not None:
            previous = self.context.previous()

            def guarded(q: str):
                try:
                    return model_route(q, previous=previous) if previous else model_route(q)
                except Exception as e:  # noqa: BLE001 - the model router failing is not the turn failing
                    log.warning("model router failed: %s", e)
                    run.emit(EventType.ERROR, Stage.ROUTE, RouteError(f"model router: {type(e).__name__}: {e}"))
                    return None
            return route(question, self.context, guarded)
        return route(question, self.context, None)

    def _run_calls(self, calls) -> list[ToolRun]:
        runs = []
        for call in calls:
            tool = TOOLS[call.name]
            try:
                runs.append(ToolRun(call.name, dict(call.arguments), tool.call(self.view, call.arguments)))
            except (ToolError, ValueError) as e:
                runs.append(ToolRun(call.name, dict(call.arguments), None, error=str(e)))
        return runs

    def _loop(self, run: _Run, question: str, r: Route, tools: ToolRuns) -> ToolRuns:
        """Further steps of the tool-calling loop (``llm.max_tool_steps``), for a turn the model
        routed: the model sees the results so far and may call more tools, each step a TOOLS
        stage of its own (typed calls, run like the first). Any safety wording is already out."""
        steps = getattr(getattr(self.model, "cfg", None), "max_tool_steps", 1)
        more = getattr(self.dialect, "more_calls", None)
        step = 1
        while step < steps and more is not None and r.source == "model" and tools.asked:
            def next_runs(ran: ToolRuns) -> ToolRuns:
                done = {ToolCall(t.name, t.arguments).key() for t in ran.runs}
                calls = [c for c in more(question, ran.asked) if c.key() not in done]
                return ToolRuns(tuple(self._run_calls(calls)))
            try:
                extra = run.stage(Stage.TOOLS, next_runs, tools)
            except StageError as e:                # the model failing in a later step: keep what we have
                log.warning("%s", e)
                run.emit(EventType.ERROR, Stage.TOOLS, e)
                break
            if not extra.runs:
                break
            for t in extra.runs:
                run.emit(EventType.TOOL, Stage.TOOLS, t)
            # the new calls go before the safety read of the lamps, in the order they were made
            asked = [t for t in tools.runs if t.reason == "asked"] + list(extra.runs)
            tools = ToolRuns(tuple(asked + [t for t in tools.runs if t.reason != "asked"]))
            step += 1
        return tools

    def _tools(self, r: Route) -> ToolRuns:
        runs = self._run_calls(r.calls)
        if not any(t.name == "get_warnings" for t in runs) and any(
                n.startswith("Vehicle.Telltale.") for n in self.view.capabilities):
            runs.append(ToolRun("get_warnings", {}, TOOLS["get_warnings"].call(self.view, {}), reason="safety"))
        return ToolRuns(tuple(runs))

    def _style(self, r: Route) -> Style:
        """This turn's style: the persona's, in the units the driver asked for (a new value; the
        base style is never changed)."""
        wanted = dict(self.context.units)
        if r.unit_override:
            wanted[units.dimension(r.unit_override)] = r.unit_override
        return self.base_style.with_units(wanted)

    def _render(self, r: Route, tools: ToolRuns, style: Style, driving: str, safety: Safety) -> Rendering:
        asked = [(t.name, t.result) for t in tools.asked]
        rendering = render(asked, style) if asked else Rendering()
        if asked and r.set_aside:           # "open the boot and check the tyres": that part is not done, said first
            rendering.add_first(style.phrase("set_aside"))
        if not asked:
            key = "decline" if r.source == "off_topic" else "unclear"
            # A brand's decline/unclear text is never said after a critical warning or while a
            # lamp cannot be read: whatever it says, the project's own wording is used then.
            w = tools.warnings
            plain = bool(safety.sentences) or bool(w and (w.unreadable or w.critical))
            text_style = style.without_wording() if plain else style
            rendering.add(text_style.phrase(key))
            rendering.brand = text_style.is_brand(key)
        return self._cap(rendering, driving)

    def _phrase_stage(self, run: _Run, question: str, tools: ToolRuns, rendering: Rendering,
                      driving: str) -> Candidate | None:
        try:
            return run.stage(Stage.PHRASE, self._phrase, run, question, tools, rendering, driving)
        except PhraseError as e:
            log.warning("%s", e)
            run.emit(EventType.ERROR, Stage.PHRASE, e)
            return None

    def _phrase(self, run: _Run, question: str, tools: ToolRuns, rendering: Rendering, driving: str) -> Candidate:
        first: dict[str, float] = {}

        def on_token(piece: str) -> None:
            if "t" not in first:
                first["t"] = run.ms()
                run.emit(EventType.TOKEN, Stage.PHRASE)

        c = self.dialect.phrase(question, tools.asked, rendering.text, on_token=on_token)
        text = self._cap_text(" ".join(SENTENCE_END.split(c.text.strip())[:2]).strip(), driving)
        return Candidate(text, first.get("t"), bool(getattr(c, "truncated", False)),
                         float(getattr(c, "total_s", 0.0)), c.text)

    def _ground(self, candidate: Candidate, rendering: Rendering, safety: Safety) -> grounding.Verdict:
        verdict = grounding.check(candidate.text, rendering, critical=bool(safety.sentences),
                                  degenerate=candidate.raw)
        if candidate.truncated:
            return grounding.Verdict(False, [f"the model took too long ({candidate.total_s:.1f} s, "
                                             "llm.max_answer_s)"] + verdict.problems)
        return verdict

    @staticmethod
    def _problems(candidate: Candidate | None, verdict, events: list[Event]) -> list[str]:
        errors = [str(e.data) for e in events if e.type is EventType.ERROR and e.stage is Stage.PHRASE]
        if errors:
            return errors
        if candidate is None:
            return []
        return (verdict.problems if verdict is not None else []) or ["the model gave no answer"]

    # -- length caps ---------------------------------------------------------------------------

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


def _safety(tools: ToolRuns, style: Style) -> Safety:
    """Approved wording in the answer's language; a persona cannot change it. A critical lamp
    that cannot be read now but was on when last read keeps it, said as such."""
    w = tools.warnings
    return Safety(tuple(safety_sentences(w, style)) if w else ())


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
