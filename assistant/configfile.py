"""Load a YAML file into a pydantic model with errors that point at file, line and field.

Used for every user-written file: vehicle maps, scenarios, personas, dialogue suites, config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from assistant.errors import UserError

M = TypeVar("M", bound=BaseModel)


# Limits on every user file, checked while the YAML is parsed, before any Python object is made:
# a hostile or broken file (an alias bomb, 20,000 nested brackets, a 2 GB file) is refused in
# milliseconds with one line, instead of hanging, exhausting memory or ending in a traceback.
MAX_FILE_BYTES = 1 << 20          # 1 MiB: the largest shipped file is a few KiB
MAX_DEPTH = 64                    # nested mappings/sequences
MAX_ALIASES = 100                 # alias events (*name) in one file
MAX_ALIAS_NODES = 10_000          # nodes that aliases repeat, counted expanded (billion laughs)
# And on what a ConfigError prints: a problem quoting a value is cut, and so is a list of them.
MAX_PROBLEM_CHARS = 500
MAX_PROBLEMS = 50


def _bounded(problem: str) -> str:
    line = " ".join(str(problem).splitlines())
    return line if len(line) <= MAX_PROBLEM_CHARS else line[:MAX_PROBLEM_CHARS - 1] + "…"


class ConfigError(UserError, ValueError):
    """A user file is wrong. ``str()`` is ready to print: ``file:line: field: problem``.

    Each problem is one line of at most ``MAX_PROBLEM_CHARS`` and at most ``MAX_PROBLEMS`` are
    kept (then a count of the rest): a message quoting a huge value stays readable."""

    def __init__(self, path: str | Path | None, problems: Iterable[str]):
        self.path = str(path) if path is not None else "<input>"
        problems = [_bounded(p) for p in problems]
        if len(problems) > MAX_PROBLEMS:
            problems = problems[:MAX_PROBLEMS] + [f"{self.path}: ... and {len(problems) - MAX_PROBLEMS} "
                                                  "more problems"]
        self.problems = problems
        super().__init__("\n".join(self.problems))


class LimitError(yaml.MarkedYAMLError):
    """A file passes a limit on user files (depth, aliases)."""


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that composes the node tree (kept for line look-ups) under the limits above:
    nesting depth, alias count, and the size aliases expand to; a recursive alias is refused.
    All of it is counted on the events, before anything is constructed."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._alias_nodes = 0
        self._sizes: dict[int, int] = {}     # id(collection node) -> its size with aliases expanded

    def _refuse(self, mark, problem: str):
        raise LimitError(problem=problem, problem_mark=mark)

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                self._refuse(event.start_mark, f"more than {MAX_ALIASES} aliases (a limit on user files)")
            target = self.anchors.get(event.anchor)
            if target is not None and not isinstance(target, yaml.ScalarNode):
                size = self._sizes.get(id(target))
                if size is None:
                    self._refuse(event.start_mark, f"alias *{event.anchor} is inside the collection it "
                                                   "names (a recursive structure)")
                self._alias_nodes += size
                if self._alias_nodes > MAX_ALIAS_NODES:
                    self._refuse(event.start_mark, f"aliases expand to more than {MAX_ALIAS_NODES} nodes "
                                                   "(a limit on user files)")
            return super().compose_node(parent, index)
        collection = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if collection:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                self._refuse(event.start_mark, f"nested more than {MAX_DEPTH} levels deep "
                                               "(a limit on user files)")
        node = super().compose_node(parent, index)
        if collection:
            self._depth -= 1
            size = self._sizes.get
            if isinstance(node, yaml.SequenceNode):
                self._sizes[id(node)] = 1 + sum(size(id(c), 1) for c in node.value)
            else:
                self._sizes[id(node)] = 1 + sum(size(id(k), 1) + size(id(v), 1) for k, v in node.value)
        return node

    # Merge keys (``<<: *base``) without changing the composed tree: PyYAML's flatten_mapping
    # rewrites the nodes in place, which would move lines and make merged keys look duplicated.
    _MERGE, _VALUE = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"

    def _merged_pairs(self, node: yaml.MappingNode) -> list:
        merged, own = [], []
        for k, v in node.value:
            if k.tag == self._MERGE:
                subs = [v] if isinstance(v, yaml.MappingNode) else list(reversed(v.value)) \
                    if isinstance(v, yaml.SequenceNode) else None
                if subs is None or not all(isinstance(n, yaml.MappingNode) for n in subs):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        "a merge key (<<) needs a mapping or a list of mappings", v.start_mark)
                for sub in subs:
                    merged.extend(self._merged_pairs(sub))
            elif k.tag == self._VALUE:
                own.append((yaml.ScalarNode("tag:yaml.org,2002:str", k.value, k.start_mark, k.end_mark), v))
            else:
                own.append((k, v))
        return merged + own

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode) and any(k.tag in (self._MERGE, self._VALUE) for k, _ in node.value):
            node = yaml.MappingNode(node.tag, self._merged_pairs(node), node.start_mark, node.end_mark,
                                    node.flow_style)
        return yaml.constructor.BaseConstructor.construct_mapping(self, node, deep=deep)


def parse_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """(data, node tree) of one YAML document, composed once under the limits, then constructed.
    Raises yaml.YAMLError (a LimitError for a limit), or ValueError for a scalar Python cannot
    hold (a 5000-digit integer, 2001-13-45)."""
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


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
    what the first one said (an expectation, a signal value), so each duplicate is an error.
    Each node is visited once, however many aliases repeat it."""
    problems, stack, visited = [], [node], set()
    while stack:
        n = stack.pop()
        if id(n) in visited:
            continue
        visited.add(id(n))
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
        with p.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(p, [f"{p}: file not found"]) from None
    except OSError as e:
        raise ConfigError(p, [f"{p}: cannot read: {e.strerror}"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(p, [f"{p}: file is larger than {MAX_FILE_BYTES // 1024} KiB "
                              "(a limit on user files)"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(p, [f"{p}: not UTF-8 text (byte {e.start})"]) from None
    try:
        data, node = parse_yaml(text)
    except LimitError as e:
        raise ConfigError(p, [f"{p}:{e.problem_mark.line + 1}: refused: {e.problem}"]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f"{p}:{mark.line + 1}" if mark else str(p)
        raise ConfigError(p, [f"{where}: invalid YAML: {e.problem}"]) from None
    except yaml.YAMLError as e:
        raise ConfigError(p, [f"{p}: invalid YAML: {e}"]) from None
    except (ValueError, OverflowError) as e:      # a scalar Python cannot hold
        raise ConfigError(p, [f"{p}: invalid YAML value: {e}"]) from None
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
