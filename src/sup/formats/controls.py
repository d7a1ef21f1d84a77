"""Instrument controls: an instrument's prompt contract as data in the bundle manifest,
so every player builds the same prompt from a few named values.

``manifest["controls"]`` (absent or null: the release plays as a plain text model)::

    {
      "template": "[green={level}] obsession={level.label}\\ntopic: {topic}\\n",
      "fields": [
        {"name": "level", "type": "integer", "minimum": 1, "maximum": 5, "default": 3,
         "labels": ["faint", "soft", "strong", "heavy", "total"], "help": "..."},
        {"name": "topic", "type": "text", "default": "a lighthouse", "max_chars": 120,
         "prompt": true, "help": "..."}
      ]
    }

The rules, the same here and in the browser page (web/src/controls.js; both are run on
the shared cases in tests/vectors/controls.json):

- ``{name}`` in the template is the field's value, ``{name.label}`` an integer field's
  label for its value; any other brace is an error, so a template means one thing.
- A field's name is a lowercase identifier; the terminal player's flag is
  ``--name-with-dashes``, ``sup serve`` takes ``"controls": {"name": value}``.
- ``integer``: ``minimum <= default <= maximum``; ``labels``, when given, name every
  value from the minimum up. ``text``: one line of printable text, at most
  ``max_chars`` characters.
- At most one text field has ``"prompt": true``: the player's prompt (the words after
  ``sup NAME``, a completion's ``prompt``, the page's prompt box) fills it. Without one,
  the prompt is appended after the rendered template.
- Every field appears in the template, and the template names only fields.

Torch-free: the players check a manifest's controls when they open the bundle.
"""

from __future__ import annotations

import json
import re
import unicodedata

from sup.errors import SupError, UsageError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
PLACEHOLDER_RE = re.compile(r"\{([a-z][a-z0-9_]{0,31})(\.label)?\}")
INTEGER_RE = re.compile(r"^\s*[-+]?[0-9]+\s*$")
MAX_FIELDS = 8
MAX_TEMPLATE = 4096
MAX_TEXT = 1000
MAX_LABEL = 40
MAX_HELP = 300
MAX_RANGE = 1000
TYPES = ("integer", "text")
# Flags every player already has: a control may not shadow one.
RESERVED = frozenset(
    {"temperature", "top_k", "top_p", "seed", "max_new_tokens", "threads", "registry",
     "help", "prompt", "model", "stream", "stop", "max_tokens", "n", "user"}
)  # fmt: skip


class ControlError(UsageError):
    """A control value a player refuses; ``name`` is the field's."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def load_controls(path) -> dict:
    """A controls file (``sup export/release --controls FILE.json``), checked."""
    from pathlib import Path

    path = Path(path)
    try:
        controls = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise UsageError(f"controls file not found: {path}") from None
    except (OSError, ValueError) as e:  # UnicodeDecodeError and JSONDecodeError included
        raise SupError(f"cannot read the controls file {path}: {e}") from None
    check_controls(controls, str(path))
    return controls


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def one_line(text: str) -> bool:
    """Printable text on one line: no control, format (bidi), private or unassigned
    characters, and no line or paragraph separators."""
    return not any(
        unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp") for c in text
    )


def check_controls(controls, where: str) -> None:
    """Refuse a ``controls`` object that breaks the rules above, in one line."""
    fix = "re-export the bundle with valid controls"

    def bad(what: str):
        raise SupError(f"{where} (controls): {what}; {fix}")

    if not isinstance(controls, dict) or set(controls) - {"template", "fields"}:
        bad("must be an object with only 'template' and 'fields'")
    template, fields = controls.get("template"), controls.get("fields")
    if not isinstance(template, str) or not 0 < len(template) <= MAX_TEMPLATE:
        bad(f"'template' must be text of 1 to {MAX_TEMPLATE} characters")
    if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_FIELDS:
        bad(f"'fields' must be a list of 1 to {MAX_FIELDS} fields")
    names, prompts = set(), 0
    for f in fields:
        name = f.get("name") if isinstance(f, dict) else None
        if not isinstance(name, str) or not NAME_RE.match(name) or name in names:
            bad(f"field name {name!r} is not a distinct lowercase identifier")
        if name in RESERVED:
            bad(f"field name {name!r} would shadow a player's own option")
        names.add(name)
        problem = field_problem(f)
        if problem:
            bad(f"field {name!r}: {problem}")
        prompts += bool(f.get("prompt"))
    if prompts > 1:
        bad("at most one field may take the prompt")
    used = set()
    for m in PLACEHOLDER_RE.finditer(template):
        if m.group(1) not in names:
            bad(f"the template names {m.group(0)}, which is not a field")
        if m.group(2) and not by_name(fields, m.group(1)).get("labels"):
            bad(f"the template uses {m.group(0)} but that field has no labels")
        used.add(m.group(1))
    if "{" in PLACEHOLDER_RE.sub("", template) or "}" in PLACEHOLDER_RE.sub("", template):
        bad("the template has a brace that is not a {field} or {field.label}")
    if used != names:
        bad(f"field(s) {', '.join(sorted(names - used))} never appear in the template")


def field_problem(f: dict) -> str | None:
    common = {"name", "type", "default", "help"}
    if f.get("type") not in TYPES:
        return f"'type' must be one of {', '.join(TYPES)}"
    if not isinstance(f.get("help", ""), str) or len(f.get("help", "")) > MAX_HELP:
        return f"'help' must be text of at most {MAX_HELP} characters"
    if f["type"] == "integer":
        if set(f) - common - {"minimum", "maximum", "labels"}:
            return "an integer field has only minimum, maximum, default, labels and help"
        lo, hi, default = f.get("minimum"), f.get("maximum"), f.get("default")
        if not (is_int(lo) and is_int(hi) and is_int(default) and lo <= default <= hi):
            return "needs integers with minimum <= default <= maximum"
        if hi - lo > MAX_RANGE:
            return f"spans more than {MAX_RANGE} values"
        labels = f.get("labels")
        if labels is not None and (
            not isinstance(labels, list)
            or len(labels) != hi - lo + 1
            or not all(_label_ok(x) for x in labels)
        ):
            return f"'labels' must name each value from {lo} to {hi} in one line of text"
        return None
    if set(f) - common - {"max_chars", "prompt"}:
        return "a text field has only default, max_chars, prompt and help"
    limit, default = f.get("max_chars"), f.get("default")
    if not is_int(limit) or not 1 <= limit <= MAX_TEXT:
        return f"'max_chars' must be an integer from 1 to {MAX_TEXT}"
    if not isinstance(default, str) or len(default) > limit or not one_line(default):
        return "'default' must be one line of text within max_chars"
    if not isinstance(f.get("prompt", False), bool):
        return "'prompt' must be true or false"
    return None


def _label_ok(label) -> bool:
    return isinstance(label, str) and 0 < len(label) <= MAX_LABEL and one_line(label)


def by_name(fields: list[dict], name: str) -> dict:
    return next(f for f in fields if f["name"] == name)


def prompt_field(controls: dict) -> str | None:
    """The name of the field the player's prompt fills, if any."""
    return next((f["name"] for f in controls["fields"] if f.get("prompt")), None)


def resolve_values(controls: dict, given: dict, prompt: str = "", spell=flag) -> tuple[dict, str]:
    """Every field's value (``given`` over the defaults; CLI strings are parsed) and the
    text to append after the template (the prompt, when no field takes it)."""
    fields = {f["name"]: f for f in controls["fields"]}
    for name in given:
        if name not in fields:
            raise ControlError(
                name, f"this model has no control {spell(name)}: its controls are "
                f"{', '.join(spell(n) for n in fields)}"
            )  # fmt: skip
    values, rest = {}, prompt
    taker = prompt_field(controls)
    if taker and prompt and taker not in given:
        given, rest = {**given, taker: prompt}, ""
    for name, f in fields.items():
        values[name] = parse_value(f, given[name], spell) if name in given else f["default"]
    return values, rest


def parse_value(f: dict, value, spell=flag):
    name, shown_name = f["name"], spell(f["name"])
    if f["type"] == "integer":
        lo, hi = f["minimum"], f["maximum"]
        number = value
        if isinstance(value, str):  # digits only, as the page (no "5_0", no other scripts)
            number = int(value) if INTEGER_RE.match(value) else None
        if not is_int(number) or not lo <= number <= hi:
            shown = value if isinstance(value, str) else repr(value)
            raise ControlError(
                name, f"{shown_name} must be an integer from {lo} to {hi}, got {shown[:40]}"
            )
        return number
    if not isinstance(value, str):
        raise ControlError(name, f"{shown_name} must be text")
    if len(value) > f["max_chars"]:
        raise ControlError(
            name, f"{shown_name} is {len(value)} characters; this model takes at most "
            f"{f['max_chars']}"
        )  # fmt: skip
    if not one_line(value):
        raise ControlError(name, f"{shown_name} must be one line of printable text")
    return value


def render_prompt(controls: dict, values: dict, rest: str = "") -> str:
    """The template with each placeholder replaced, then ``rest``."""
    fields = {f["name"]: f for f in controls["fields"]}

    def fill(m: re.Match) -> str:
        f, value = fields[m.group(1)], values[m.group(1)]
        if m.group(2):
            return f["labels"][value - f["minimum"]]
        return str(value)

    return PLACEHOLDER_RE.sub(fill, controls["template"]) + rest


def build_prompt(
    controls: dict | None, given: dict, prompt: str, count_tokens, block: int, spell=flag
) -> str:
    """What a player feeds the model: the rendered template (``controls``) or the prompt
    itself (no controls, so ``given`` must be empty). A controlled prompt must leave room
    to generate: one the context cannot hold is refused, never silently cropped, since
    cropping would cut the template's controls off its start."""
    if controls is None:
        if given:
            name = next(iter(given))
            raise ControlError(name, f"this model has no controls: unrecognized {spell(name)}")
        return prompt
    values, rest = resolve_values(controls, given, prompt, spell)
    text = render_prompt(controls, values, rest)
    n = count_tokens(text)
    if n >= block:
        taker = prompt_field(controls)
        shorten = f"shorten {spell(taker)} (the prompt)" if taker else "shorten the prompt"
        raise ControlError(
            taker or "prompt", f"the prompt built from the controls is {n} tokens and the "
            f"model's context is {block}: {shorten}"
        )  # fmt: skip
    return text


def describe(controls: dict) -> list[str]:
    """One line per field, for the model card and ``sup NAME --help``-like notes."""
    lines = []
    for f in controls["fields"]:
        if f["type"] == "integer":
            kind = f"integer {f['minimum']}..{f['maximum']}"
            if f.get("labels"):
                kind += f" ({', '.join(f['labels'])})"
        else:
            kind = f"text, up to {f['max_chars']} characters"
            if f.get("prompt"):
                kind += "; the prompt fills it"
        help_ = f" — {f['help']}" if f.get("help") else ""
        lines.append(f"{flag(f['name'])}: {kind}, default {f['default']!r}{help_}")
    return lines
