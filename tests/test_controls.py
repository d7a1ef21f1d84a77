"""Instrument controls (sup/formats/controls.py): the shared cases every player must
agree on (tests/vectors/controls.json; the browser page runs the same file in
web/test/controls.test.mjs), the flags the terminal player takes, and the check a
manifest's controls get when a bundle is opened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sup.cli.play import take_control_flags
from sup.errors import SupError
from sup.formats.controls import (
    ControlError,
    build_prompt,
    check_controls,
    describe,
    render_prompt,
    resolve_values,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "controls.json").read_text())
CASES = VECTORS["cases"]


@pytest.mark.parametrize("controls", VECTORS["controls"].values(), ids=list(VECTORS["controls"]))
def test_shared_controls_are_valid(controls):
    check_controls(controls, "vectors")


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_shared_cases(case):
    controls = VECTORS["controls"][case["controls"]]
    if "error" in case:
        with pytest.raises(ControlError) as e:
            resolve_values(controls, case["given"], case["user_prompt"])
        assert e.value.name == case["error"]
        assert "\n" not in str(e.value)
    else:
        values, rest = resolve_values(controls, case["given"], case["user_prompt"])
        assert render_prompt(controls, values, rest) == case["prompt"]


BAD = VECTORS["bad_controls"]


@pytest.mark.parametrize("case", BAD, ids=[c["why"] for c in BAD])
def test_bad_controls_are_refused_in_one_line(case):
    with pytest.raises(SupError) as e:
        check_controls(case["controls"], "manifest.json")
    assert str(e.value).startswith("manifest.json (controls): ")
    assert "\n" not in str(e.value)


def test_a_prompt_the_context_cannot_hold_is_refused_not_cropped():
    gatsby = VECTORS["controls"]["gatsby"]
    count = len  # one token per character, as a char model
    prompt = build_prompt(gatsby, {}, "the sea", count, 80)
    assert prompt.endswith("topic: the sea\n")
    with pytest.raises(ControlError, match="shorten --topic") as e:
        build_prompt(gatsby, {}, "the sea", count, len(prompt))  # nothing left to generate
    assert e.value.name == "topic"


def test_a_model_without_controls_refuses_control_flags_and_plays_the_prompt():
    assert build_prompt(None, {}, "you never", len, 16) == "you never"
    with pytest.raises(ControlError, match="no controls: unrecognized --level"):
        build_prompt(None, {"level": "5"}, "", len, 16)


def test_serve_spells_controls_as_request_fields():
    gatsby = VECTORS["controls"]["gatsby"]
    with pytest.raises(ControlError, match=r"controls\.level must be an integer from 1 to 5"):
        build_prompt(gatsby, {"level": 9}, "", len, 200, spell=lambda n: f"controls.{n}")


def test_control_flags_are_split_from_play_options():
    argv = ["gatsby", "--level", "5", "a", "--temperature", "0.5", "--topic=the sea", "x"]
    rest, controls = take_control_flags(argv)
    assert controls == {"level": "5", "topic": "the sea"}
    assert rest == ["gatsby", "a", "--temperature", "0.5", "x"]
    # an abbreviation of a play option stays play's; "--" ends options
    rest, controls = take_control_flags(["m", "--temp", "1", "--", "--level", "2"])
    assert controls == {} and rest == ["m", "--temp", "1", "--", "--level", "2"]
    rest, controls = take_control_flags(["m", "--max-level", "2"])
    assert controls == {"max_level": "2"}
    with pytest.raises(SupError, match="--level needs a value"):
        take_control_flags(["m", "--level"])


def test_describe_names_each_flag():
    lines = describe(VECTORS["controls"]["gatsby"])
    assert lines[0].startswith("--level: integer 1..5 (faint, soft, strong, heavy, total)")
    assert "the prompt fills it" in lines[1]


def test_play_flags_are_the_play_parsers_options():
    from sup.cli.main import build_parser
    from sup.cli.play import PLAY_FLAGS

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert sub.choices["play"].long_options == PLAY_FLAGS
