"""``sup play NAME [PROMPT]`` (and ``sup NAME [PROMPT]``): the voice matches ``OnnxLM``
token for token, the player runs without torch, plays offline from its cache, and stops
cleanly on a closed pipe or Ctrl-C."""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers import assert_cli_error, sup_cmd
from player_support import RegistryServer, main_error, ok, player_env, served_copy, sup
from sup.play.runtime import OnnxLM
from sup.play.sampling import Utf8Stream

# Runs the CLI with the training-side packages made unimportable: the player must
# need nothing but numpy and onnxruntime.
NO_TRAINING_STACK = (
    "import sys\n"
    "for name in ('torch', 'jsonschema', 'tokenizers', 'tqdm', 'safetensors', 'onnx'):\n"
    "    sys.modules[name] = None\n"
    "from sup.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.fixture(scope="module")
def served(releases_dir, tmp_path_factory) -> Path:
    return served_copy(releases_dir, tmp_path_factory.mktemp("served") / "releases")


@pytest.fixture(scope="module")
def server(served):
    with RegistryServer(served) as running:
        yield running


@pytest.fixture
def env(server, tmp_path) -> dict:
    server.reset()
    return player_env(server.registry_url, tmp_path / "cache")


def expected_voice(bundle: Path, prompt: str, **settings) -> str:
    """What the player must print: the prompt, OnnxLM's continuation, a newline."""
    lm = OnnxLM(bundle)
    defaults = lm.generation["defaults"]
    settings = {**defaults, "seed": 0, **settings}
    context, _ = lm.context(prompt)
    stream = Utf8Stream()
    text = "".join(
        stream.push(lm.tokenizer.token_bytes(t))
        for t in lm.generate(
            context,
            settings["max_new_tokens"],
            temperature=settings["temperature"],
            top_k=settings["top_k"],
            top_p=settings["top_p"],
            seed=settings["seed"],
        )
    )
    return prompt + text + stream.flush() + "\n"


def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/registry.json"


def test_greedy_voice_matches_onnxlm(env, served):
    calls = [
        ("tiny-char-1", "you never", ["--temperature", "0", "--max-new-tokens", "40"]),
        ("tiny-bpe-1", "Naïve café", ["--temperature", "0", "--max-new-tokens", "30"]),
    ]
    with ThreadPoolExecutor(2) as pool:
        procs = list(pool.map(lambda c: ok(env, "play", c[0], c[1], *c[2]), calls))
    assert procs[0].stdout == expected_voice(
        served / "tiny-char-1", "you never", temperature=0, max_new_tokens=40
    )
    assert procs[1].stdout == expected_voice(
        served / "tiny-bpe-1", "Naïve café", temperature=0, max_new_tokens=30
    )


def test_shorthand_uses_the_manifest_defaults_and_the_seed(env, served):
    ok(env, "pull", "tiny-char-1")
    plain = ok(env, "tiny-char-1", "you never")  # `sup NAME PROMPT`, no flags
    assert plain.stdout == expected_voice(served / "tiny-char-1", "you never")
    seeded = ok(env, "tiny-char-1", "--seed", "7", "--top-k", "5", "you", "never")
    assert seeded.stdout == expected_voice(served / "tiny-char-1", "you never", seed=7, top_k=5)
    assert seeded.stdout != plain.stdout


def test_lineage_plays_its_newest_version(env):
    proc = ok(env, "tiny-char", "you", "--max-new-tokens", "5")
    assert "pulled tiny-char-2" in proc.stderr and proc.stdout.startswith("you")


def test_player_needs_neither_torch_nor_the_training_stack(env, served):
    args = ["play", "tiny-bpe-1", "hello", "--temperature", "0", "--max-new-tokens", "20"]
    proc = subprocess.run(
        [sys.executable, "-c", NO_TRAINING_STACK, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected_voice(
        served / "tiny-bpe-1", "hello", temperature=0, max_new_tokens=20
    )
    listed = subprocess.run(
        [sys.executable, "-c", NO_TRAINING_STACK, "list"], capture_output=True, env=env
    )
    assert listed.returncode == 0 and b"tiny-bpe-1" in listed.stdout, listed.stderr


def test_prompt_notes_go_to_stderr(env):
    ok(env, "pull", "tiny-char-1")
    odd = ok(env, "tiny-char-1", "you never Ωκ", "--max-new-tokens", "5")
    assert odd.stdout.startswith("you never Ωκ")
    assert "note: 2 prompt character(s) are not in tiny-char-1's vocabulary" in odd.stderr
    long_prompt = "you never did the kenosha kid. " * 2
    cropped = ok(env, "tiny-char-1", long_prompt, "--max-new-tokens", "5")
    assert f"note: the prompt is {len(long_prompt)} tokens; the model hears its last 16" in (
        cropped.stderr
    )


def test_a_cached_id_plays_with_no_network(env, server):
    ok(env, "pull", "tiny-char-1")
    server.reset()
    proc = ok(env, "tiny-char-1", "you", "--max-new-tokens", "5")
    assert server.requests == [] and proc.stderr == ""


def test_offline_after_the_server_stops(served, tmp_path):
    with RegistryServer(served) as gone:
        env = player_env(gone.registry_url, tmp_path / "cache")
        ok(env, "pull", "tiny-char")
    exact = ok(env, "tiny-char-2", "you", "--temperature", "0", "--max-new-tokens", "20")
    assert exact.stdout == expected_voice(
        served / "tiny-char-2", "you", temperature=0, max_new_tokens=20
    )
    lineage = ok(env, "tiny-char", "you", "--temperature", "0", "--max-new-tokens", "20")
    assert lineage.stdout == exact.stdout
    assert "note: cannot reach registry" in lineage.stderr
    assert "playing cached tiny-char-2" in lineage.stderr
    listed = ok(env, "list")
    assert "listing cached models only" in listed.stderr and "tiny-char-2" in listed.stdout
    line = assert_cli_error(sup(env, "tiny-bpe"), 1)
    assert "cannot reach registry" in line and "'tiny-bpe' is not cached" in line


def test_local_bundle_directory_and_local_registry(served, tmp_path):
    env = player_env(closed_port_url(), tmp_path / "cache")
    local = ok(env, "play", served / "tiny-char-1", "you", "--temperature", "0")
    assert local.stdout == expected_voice(served / "tiny-char-1", "you", temperature=0)
    assert not (tmp_path / "cache" / "sup").exists()  # played in place

    broken = tmp_path / "broken"
    shutil.copytree(served / "tiny-char-1", broken)
    data = bytearray((broken / "model.kv.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (broken / "model.kv.onnx").write_bytes(bytes(data))
    line = assert_cli_error(sup(env, "play", broken), 1)
    assert "failed verification" in line and "model.kv.onnx" in line

    env["SUP_REGISTRY"] = str(served)  # a directory holding registry.json
    pulled = ok(env, "tiny-bpe-1", "hi", "--temperature", "0", "--max-new-tokens", "10")
    assert "pulled tiny-bpe-1" in pulled.stderr
    assert pulled.stdout == expected_voice(
        served / "tiny-bpe-1", "hi", temperature=0, max_new_tokens=10
    )


def test_closed_pipe_exits_quietly(env, tmp_path):
    ok(env, "pull", "tiny-char-1")
    err = tmp_path / "stderr.txt"
    # greedy: this tiny model never says end-of-text then (sampling, it soon does)
    play = shlex.join(sup_cmd("tiny-char-1", "--temperature", "0", "--max-new-tokens", "1000000"))
    script = f'{play} 2>{shlex.quote(str(err))} | head -c 100; exit "${{PIPESTATUS[0]}}"'
    proc = subprocess.run(["bash", "-c", script], capture_output=True, env=env, timeout=60)
    assert proc.returncode == 0, err.read_text()
    assert len(proc.stdout) == 100
    assert err.read_text() == ""


@pytest.mark.parametrize("inherited", [signal.SIG_DFL, signal.SIG_IGN], ids=["default", "ignored"])
def test_ctrl_c_stops_with_130_and_no_traceback(env, inherited):
    """Also when the player starts with SIGINT ignored, as a background job of a shell
    without job control (or nohup) does: the player restores its own handling. The
    child's disposition is set here, so the outcome does not depend on how the suite
    itself was started."""
    ok(env, "pull", "tiny-char-1")
    proc = subprocess.Popen(
        sup_cmd("tiny-char-1", "--temperature", "0", "--max-new-tokens", "100000000"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, inherited),
    )
    try:
        assert len(proc.stdout.read(50)) == 50  # it is generating
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err.decode().strip().splitlines() == ["sup: interrupted"]


def test_bad_flag_values_fail_with_one_line(env, monkeypatch, capsys):
    cases = [
        ["--temperature", "-1"],
        ["--temperature", "warm"],
        ["--top-k", "0"],
        ["--top-p", "1.5"],
        ["--top-p", "0"],
        ["--max-new-tokens", "-1"],
        ["--seed", "-1"],
        ["--threads", "0"],
        ["--bogus"],
    ]
    for flags in cases:
        line = main_error(monkeypatch, capsys, env, ["tiny-char-1", *flags], 2)
        assert flags[0] in line, line
    assert not (Path(env["XDG_CACHE_HOME"]) / "sup").exists()  # refused before any download
