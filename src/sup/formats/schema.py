"""The one source of the string rules that file formats share, and JSON Schema helpers.

Writers validate whole documents against JSON Schemas built from these patterns (with
``jsonschema``, which only writers and ``sup check`` import); players, which must run
without ``jsonschema``, check the same fields with the same patterns compiled here. So
a rule changes in one place and both sides follow.
"""

from __future__ import annotations

import math
import re

from sup.errors import SupError

SHA256 = r"^[0-9a-f]{64}$"
# A file inside a bundle: a plain name, never a path (no "/", no leading ".").
FILE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
# A bundle id: lowercase words joined by "-" (a release adds a version number, below).
BUNDLE_ID = r"^[a-z0-9][a-z0-9_.]*(-[a-z0-9_.]+)*$"
# A release id NAME-N: the lineage, then a version number.
RELEASE_ID = r"^(?P<lineage>[a-z0-9][a-z0-9_.]*(?:-[a-z0-9_.]+)*?)-(?P<n>[0-9]+)$"
# A bundle directory relative to its registry: one plain directory name and a "/".
BUNDLE_PATH = r"^[a-z0-9][a-z0-9_.-]*/$"
MAX_ID_LENGTH = 100
MAX_FILE_NAME_LENGTH = 200

SHA256_RE = re.compile(SHA256)
FILE_NAME_RE = re.compile(FILE_NAME)
BUNDLE_ID_RE = re.compile(BUNDLE_ID)
RELEASE_ID_RE = re.compile(RELEASE_ID)
BUNDLE_PATH_RE = re.compile(BUNDLE_PATH)

NON_NEGATIVE_INT = {"type": "integer", "minimum": 0}
POSITIVE_INT = {"type": "integer", "minimum": 1}
NUMBER = {"type": "number"}
SHA256_STRING = {"type": "string", "pattern": SHA256}


def obj(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    """A JSON Schema object whose listed properties are all required but ``optional``."""
    required = [k for k in properties if k not in optional]
    return {"type": "object", "required": required, "properties": properties}


def schema_errors(instance, schema: dict) -> list[str]:
    """Every way ``instance`` breaks ``schema``, as "at PATH: why" (empty: valid).

    Needs ``jsonschema``: for writers and ``sup check``, never for players."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    return [f"at {'/'.join(map(str, e.path)) or '(top level)'}: {e.message}" for e in errors]


def validate(instance, schema: dict, where: str, what: str) -> None:
    """Raise a one-line SupError naming ``where`` for the first schema violation."""
    errors = schema_errors(instance, schema)
    if errors:
        raise SupError(f"{where}: invalid {what} {errors[0]}")


# Field checks without jsonschema, for readers whose files players or the engine open
# on every start: each returns the value or raises one SupError naming the file.
def is_int(value) -> bool:
    return type(value) is int  # bool is an int subclass, and never a count


def is_number(value) -> bool:
    """A finite JSON number (an int of any size is finite; ``math.isfinite`` would
    overflow converting a huge one)."""
    return type(value) is int or (type(value) is float and math.isfinite(value))


def short(value, limit: int = 40) -> str:
    """``value`` for a message: its repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def field(obj: dict, key: str, ok, what: str, where: str, fix: str):
    """``obj[key]`` if ``ok(value)``; otherwise a one-line error saying what it should be."""
    if key not in obj:
        raise SupError(f"{where} is damaged: it has no {key!r} ({fix})")
    value = obj[key]
    if not ok(value):
        raise SupError(f"{where} is damaged: {key} should be {what}, not {short(value)} ({fix})")
    return value


def object_field(obj: dict, key: str, where: str, fix: str) -> dict:
    return field(obj, key, lambda v: isinstance(v, dict), "an object", where, fix)
