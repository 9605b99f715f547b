"""Load a YAML file into a pydantic model with errors that point at file, line and field.

Used for every user-written file: vehicle maps, scenarios, personas, dialogue suites, config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A user file is wrong. ``str()`` is ready to print: ``file:line: field: problem``."""

    def __init__(self, path: str | Path | None, problems: Iterable[str]):
        self.path = str(path) if path is not None else "<input>"
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the start line of every mapping/sequence value."""


def _compose_lines(text: str) -> yaml.Node | None:
    return yaml.compose(text, Loader=_LineLoader)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the node at ``loc`` (pydantic error location) or its closest parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if str(k.value) == str(key):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _duplicate_keys(node: yaml.Node | None, path: Path) -> list[str]:
    """YAML keeps the last of two equal keys without a word; in a user file that silently drops
    what the first one said (an expectation, a signal value), so each duplicate is an error."""
    problems, stack = [], [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode):
                    line = k.start_mark.line + 1
                    if k.value in seen:
                        problems.append(f"{path}:{line}: {k.value}: duplicate key (also on line {seen[k.value]}); "
                                        "YAML would keep only the last one")
                    seen.setdefault(k.value, line)
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return sorted(problems, key=lambda s: int(s.split(":")[1]))


def resolve_named(name_or_path: str | Path, folder: Path, kind: str) -> Path:
    """A shipped file by name (``folder/NAME.yaml``) or a path; unknown names list the known ones."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    candidate = folder / f"{name_or_path}.yaml"
    if candidate.exists():
        return candidate
    known = sorted(f.stem for f in folder.glob("*.yaml"))
    raise ConfigError(name_or_path, [f"unknown {kind} {str(name_or_path)!r} "
                                     f"(shipped: {', '.join(known)}; or give a .yaml path)"])


def read_yaml(path: str | Path) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file; return (data, node tree for line look-ups). Raises ConfigError (an empty
    file is one: every user file has something to say)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(p, [f"{p}: file not found"]) from None
    except OSError as e:
        raise ConfigError(p, [f"{p}: cannot read: {e.strerror}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(p, [f"{p}: not UTF-8 text (byte {e.start})"]) from None
    try:
        data = yaml.safe_load(text)
        node = _compose_lines(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f"{p}:{mark.line + 1}" if mark else str(p)
        raise ConfigError(p, [f"{where}: invalid YAML: {e.problem}"]) from None
    except yaml.YAMLError as e:
        raise ConfigError(p, [f"{p}: invalid YAML: {e}"]) from None
    if data is None:
        raise ConfigError(p, [f"{p}: file is empty"])
    duplicates = _duplicate_keys(node, p)
    if duplicates:
        raise ConfigError(p, duplicates)
    return data, node


def validation_problems(err: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """(location, message) for each error pydantic found, worded for a person editing the file."""
    out = []
    for e in err.errors(include_url=False):
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        msg = "unknown field" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, ")
        out.append((loc, msg))
    return out


def format_validation_error(path: str | Path, err: ValidationError, node: yaml.Node | None) -> list[str]:
    return [f"{locate(path, node, loc)}: {'.'.join(map(str, loc)) or '(top level)'}: {msg}"
            for loc, msg in validation_problems(err)]


def locate(path: str | Path, node: yaml.Node | None, loc: tuple[Any, ...]) -> str:
    """``file:line`` of the value at ``loc`` (or ``file`` when unknown)."""
    line = _line_of(node, loc)
    return f"{path}:{line}" if line else str(path)


def validate(model: type[M], data: Any, path: str | Path = "<input>", node: yaml.Node | None = None,
             context: dict | None = None) -> M:
    """Validate ``data``; then, if the model has ``problems()`` (checks that need several fields or
    report many items at once), turn each ``(loc, message)`` into a ``file:line: field: message``."""
    if data is None:
        raise ConfigError(path, [f"{path}: file is empty"])
    try:
        obj = model.model_validate(data, context=context)
    except ValidationError as e:
        raise ConfigError(path, format_validation_error(path, e, node)) from None
    problems = getattr(obj, "problems", None)
    if problems is not None:
        found = [f"{locate(path, node, loc)}: {'.'.join(map(str, loc))}: {msg}" for loc, msg in problems()]
        if found:
            raise ConfigError(path, found)
    return obj


def load_model(model: type[M], path: str | Path, context: dict | None = None) -> M:
    data, node = read_yaml(path)
    return validate(model, data, path, node, context)
