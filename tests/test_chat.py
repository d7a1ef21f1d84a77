"""Chat templates (sup/chat.py): loading and checking template files, rendering
messages, and `sup export --chat` refusing a bad template. Serving chat models is
tested end to end in test_serve.py."""

from __future__ import annotations

import json

import pytest

from helpers import assert_cli_error, run_sup
from sup.errors import SupError
from sup.play.chat import check_chat_template, load_chat_template, render

TEMPLATE = {
    "system": "{content}\n",
    "user": "User: {content}\n",
    "assistant": "Bot: {content}\n",
    "generation_prefix": "Bot:",
    "stop": ["\nUser:"],
}


def write(tmp_path, obj, name="template.json"):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return path


def test_a_template_file_loads_and_stop_defaults_to_none(tmp_path):
    assert load_chat_template(write(tmp_path, TEMPLATE)) == TEMPLATE
    no_stop = {k: v for k, v in TEMPLATE.items() if k != "stop"}
    assert load_chat_template(write(tmp_path, no_stop))["stop"] == []


def test_render_writes_each_turn_then_the_generation_prefix():
    messages = [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "bye"},
    ]
    assert render(TEMPLATE, messages) == "Be kind.\nUser: hi\nBot: hello\nUser: bye\nBot:"


def test_render_takes_message_text_literally():
    """Braces are data: no format fields, no second substitution of {content}."""
    template = {**TEMPLATE, "user": "{user} says {content} {0}\n"}
    messages = [{"role": "user", "content": "{content} {0} {x.__class__}"}]
    assert render(template, messages) == "{user} says {content} {0} {x.__class__} {0}\nBot:"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ([], "expected a JSON object"),
        ({**TEMPLATE, "usr": "x{content}"}, "unknown key 'usr'"),
        ({k: v for k, v in TEMPLATE.items() if k != "user"}, "'user' must be a string"),
        ({**TEMPLATE, "generation_prefix": None}, "'generation_prefix' must be a string"),
        ({**TEMPLATE, "assistant": "Bot:"}, "{content} exactly once"),
        ({**TEMPLATE, "system": "{content}{content}"}, "{content} exactly once"),
        ({**TEMPLATE, "stop": "\n"}, "'stop' must be a list"),
        ({**TEMPLATE, "stop": ["a", "b", "c", "d", "e"]}, "at most 4"),
        ({**TEMPLATE, "stop": [""]}, "non-empty strings"),
    ],
)
def test_bad_templates_are_one_line_errors_naming_the_file(tmp_path, template, problem):
    path = write(tmp_path, template)
    with pytest.raises(SupError) as e:
        load_chat_template(path)
    message = str(e.value)
    assert problem in message and str(path) in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "not found"), ("{oops", "cannot read"), (b"\xff", "cannot read")],
)
def test_unreadable_template_files_are_one_line_errors(tmp_path, content, problem):
    path = tmp_path / "template.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(SupError, match=problem):
        load_chat_template(path)


def test_manifest_templates_are_checked_under_their_own_name():
    with pytest.raises(SupError, match=r"^bundle/manifest.json: bad chat template"):
        check_chat_template({"user": "{content}"}, "bundle/manifest.json")


@pytest.mark.slow
def test_export_refuses_a_bad_template_and_writes_nothing(tmp_path, char_run):
    bad = write(tmp_path, {**TEMPLATE, "user": "User:"})
    out = tmp_path / "bundle"
    proc = run_sup("export", char_run, "--out", out, "--chat", bad)
    assert "{content} exactly once" in assert_cli_error(proc, 1)
    assert not out.exists()
