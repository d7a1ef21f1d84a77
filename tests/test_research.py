"""`sup research`: every experiment gets the same budget and the same windows; a row is
kept only past twice the baseline's seed noise and the hidden holdout; crashes, hangs
and a kill -9 are survived; a study from another harness is refused; the llm proposer
talks to a real `sup serve`, its bad replies re-prompted once and then replaced, counted.

One baseline (three seeds, 2 s each, the tiny model) is measured once per module; each test
works on a copy of it. Values in the ledger are checked against an independent re-score
of the run directories, never only against the numbers the loop wrote.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import SUB_ENV, assert_cli_error, run_sup, sets, sup_cmd, sup_ok
from serve_support import CHAT_TEMPLATE, start_server, stop_server
from sup.errors import SupError, UsageError
from sup.research.ask import ask_json
from sup.research.ledger import Row, decide, is_candidate, read_ledger, standing
from sup.research.loop import run_study
from sup.research.propose import (
    ASK,
    LlmSettings,
    propose_llm,
    propose_local,
    propose_random,
    rng_for,
)
from sup.research.space import knobs_from_table
from sup.research.study import init_study, open_study

pytestmark = pytest.mark.slow

BUDGET, SEEDS, WINDOWS = "2s", 3, 64
SETS = sets(threads=1)[1::2]  # the TINY model as key=value, one trainer thread
LR_SPACE = "[learning_rate]\nmin = 1e-3\nmax = 1e-2\nlog = true\n"
LLM_DELTA = {"learning_rate": 0.004}  # what the tiny chat model always proposes


def harness_flags(data: Path) -> list:
    flags = ["--data", data, "--budget", BUDGET, "--seeds", SEEDS, "--windows", WINDOWS]
    for item in SETS:
        flags += ["--set", item]
    return flags


def space_file(where: Path, text: str) -> Path:
    path = where / f"space-{abs(hash(text))}.toml"
    path.write_text(text)
    return path


def reinit(study: Path, data: Path, space: str, timeout: float = 60) -> None:
    """A new space (and timeout) for a copy of the module's study: same harness."""
    init_study(study, data, BUDGET, space_file(study.parent, space), None, SETS, SEEDS,
               WINDOWS, timeout)  # fmt: skip


def ledger(study: Path) -> list[dict]:
    """The ledger read as plain TSV (not through sup.research.ledger)."""
    with open(study / "results.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


# --- the module's study and chat model ----------------------------------------------------


def make_proposer_model(work: Path) -> Path:
    """A tiny char chat model whose greedy reply to the proposer's request is a fixed
    JSON delta, made through the CLI and released into ``work/releases``."""
    from sup.ship.registry import write_registry

    line = f"User: {ASK}\nBot: {json.dumps(LLM_DELTA)}\n"
    (work / "chat.txt").write_text(line * 300)
    (work / "template.json").write_text(json.dumps(CHAT_TEMPLATE))
    sup_ok("prepare", work / "chat.txt", "--tokenizer", "char", "--out", work / "data")
    sup_ok("train", "--data", work / "data", "--out", work / "run", "--quiet",
           *sets(block_size=64, batch_size=8, learning_rate=0.01, max_iters=300,
                 eval_interval=300))  # fmt: skip
    releases = work / "releases"
    sup_ok("export", work / "run", "--out", releases / "proposer-1", "--id", "proposer-1",
           "--chat", work / "template.json")  # fmt: skip
    write_registry(releases)
    return releases


@pytest.fixture(scope="module")
def proposer_job(tmp_path_factory) -> Future:
    """The chat model, built in a background thread while the baseline trains."""
    pool = ThreadPoolExecutor(1)
    job = pool.submit(make_proposer_model, tmp_path_factory.mktemp("proposer"))
    pool.shutdown(wait=False)
    return job


@pytest.fixture(scope="module")
def base_study(tmp_path_factory, char_data, proposer_job) -> Path:
    """A study over learning_rate whose baseline (three seeds) is measured; copy it."""
    study = tmp_path_factory.mktemp("studies") / "base"
    space = space_file(study.parent, LR_SPACE)
    sup_ok("research", "init", study, *harness_flags(char_data), "--space", space,
           "--timeout", 60)  # fmt: skip
    sup_ok("research", "run", study, "--experiments", 0)
    return study


@pytest.fixture
def study(base_study, tmp_path) -> Path:
    copy = tmp_path / "study"
    shutil.copytree(base_study, copy)
    return copy


@pytest.fixture(scope="module")
def llm_url(proposer_job, tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("serve"), "--releases", proposer_job.result())
    yield f"http://127.0.0.1:{server.port}/v1"
    stop_server(server)


# --- the loop, end to end -----------------------------------------------------------------


def test_random_experiments_are_rescored_independently(study, char_data):
    proc = sup_ok("research", "run", study, "--experiments", 2, "--proposer", "random",
                  "--keep-all", "--json")  # fmt: skip
    result = json.loads(proc.stdout)
    rows = ledger(study)
    assert [int(r["id"]) for r in rows] == list(range(1, SEEDS + 3))
    assert [r["status"] for r in rows[:SEEDS]] == ["baseline"] * SEEDS
    assert {r["status"] for r in rows[SEEDS:]} <= {"keep", "discard", "discard-holdout"}
    assert len({r["seed"] for r in rows}) == SEEDS + 2  # experiments never reuse a seed
    info = json.loads((study / "study.json").read_text())
    windows = info["harness"]["windows"]
    val_tokens = json.loads((char_data / "meta.json").read_text())["val"]["tokens"]
    block = windows["length"]
    assert max(windows["val"]) + block + 1 <= val_tokens // 2 <= min(windows["holdout"])

    from sup.engine.evaluate import evaluate_windows
    from sup.engine.rundir import load_model, open_run
    from sup.formats.data import load_tokens

    tokens = load_tokens(char_data, "val")
    for row in rows:
        run_dir = study / "exp" / f"{int(row['id']):04d}" / "run"
        config = json.loads((run_dir / "run.json").read_text())["config"]
        assert config["time_budget"] == 2.0 and config["seed"] == int(row["seed"])
        delta = json.loads(row["delta"])
        assert "seed" not in delta and all(config[k] == v for k, v in delta.items())
        if row["status"] != "baseline":  # an experiment changes the config, not just a seed
            assert delta and row["config_hash"] != rows[0]["config_hash"]
        run = open_run(run_dir)
        model, _ = load_model(run, "last")
        for which in ("val", "holdout"):
            if not row[f"{which}_bpb"]:
                continue
            mine = evaluate_windows(model, tokens, np.array(windows[which]), 7, run.tokenizer,
                                    torch.device("cpu"), "fp32")  # fmt: skip
            assert abs(mine["val_bpb"] - float(row[f"{which}_bpb"])) < 2e-6, (row, which)
        assert float(row["wall_s"]) >= 2 and float(row["peak_mem_mb"]) > 50
        steps = json.loads((study / "exp" / f"{int(row['id']):04d}" / "train.json").read_text())
        assert int(row["tokens"]) == steps["step"] * config["batch_size"] * block
    assert result["stats"]["experiments"] == 2

    proc = sup_ok("research", "status", study)
    assert "baseline" in proc.stdout and proc.stdout.count("random: learning_rate=") == 2
    assert (study / "progress.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_crash_is_recorded_and_the_loop_goes_on(study, char_data):
    reinit(study, char_data, "[n_head]\nvalues = [3, 5]\n")  # neither divides n_embd 32
    result = run_study(study, 3, "random")
    rows = ledger(study)
    assert [r["status"] for r in rows[SEEDS:]] == ["crash", "crash"]
    assert all("n_embd must be divisible by n_head" in r["description"] for r in rows[SEEDS:])
    assert {json.loads(r["delta"])["n_head"] for r in rows[SEEDS:]} == {3, 5}
    assert "exhausted" in result["note"]  # a third try would only repeat a config


def test_a_hang_is_killed_and_recorded_as_timeout(study, char_data):
    # a million micro-batches a step: a real config whose first step never ends in time
    reinit(study, char_data, "[gradient_accumulation_steps]\nvalues = [1000000]\n", timeout=5)
    t0 = time.monotonic()
    row = run_study(study, 1, "random")["new_rows"][0]
    assert row["status"] == "timeout" and 5 <= row["wall_s"] < 5 + 10
    assert time.monotonic() - t0 < 30
    assert not alive(int((study / "exp" / f"{SEEDS + 1:04d}" / "trainer.pid").read_text()))
    assert ledger(study)[SEEDS]["status"] == "timeout"


def test_kill_9_mid_experiment_then_run_again_continues(study):
    proc = subprocess.Popen(
        sup_cmd("research", "run", study, "--experiments", 3, "--proposer", "random"),
        env=SUB_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    first = f"{SEEDS + 1:04d}"  # the first experiment's directory
    run_json = study / "exp" / first / "run" / "run.json"
    try:
        deadline = time.monotonic() + 60
        while not run_json.is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run_json.is_file(), "the first experiment's trainer never started"
        started = json.loads(run_json.read_text())["config"]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    trainer = int((study / "exp" / first / "trainer.pid").read_text())
    deadline = time.monotonic() + 10
    while alive(trainer) and time.monotonic() < deadline:  # it dies with the loop
        time.sleep(0.05)
    assert not alive(trainer)
    assert len(ledger(study)) == SEEDS

    run_study(study, 1, "random")
    rows = ledger(study)
    assert [int(r["id"]) for r in rows] == list(range(1, SEEDS + 2))
    assert sorted(p.name for p in (study / "exp").iterdir()) == [
        f"{i:04d}" for i in range(1, SEEDS + 2)
    ]
    # the row redone is the one the kill interrupted: same seeded proposal, same seed
    assert json.loads(rows[SEEDS]["delta"])["learning_rate"] == started["learning_rate"]
    assert int(rows[SEEDS]["seed"]) == started["seed"]


def test_a_study_from_another_harness_is_refused(study):
    before = (study / "results.tsv").read_bytes()
    info = json.loads((study / "study.json").read_text())
    info["harness"]["data"]["meta_sha256"] = "0" * 64
    (study / "study.json").write_text(json.dumps(info))
    line = assert_cli_error(run_sup("research", "run", study, "--experiments", 1), 1)
    assert "harness was edited" in line
    assert (study / "results.tsv").read_bytes() == before
    assert not (study / "exp" / f"{SEEDS + 1:04d}").exists()
    with pytest.raises(SupError, match="harness was edited"):
        run_study(study, 1)
    info["version"] = 99  # a study another harness version wrote
    (study / "study.json").write_text(json.dumps(info))
    with pytest.raises(SupError, match="version 99 of the sup research study format"):
        open_study(study)


def test_changed_data_is_refused(study, char_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(char_data, data)
    info = json.loads((study / "study.json").read_text())
    info["harness"]["data"]["path"] = str(data)  # a harness that names a copy of the data...
    from sup.research.study import harness_sha256

    info["harness_sha256"] = harness_sha256(info["harness"])
    (study / "study.json").write_text(json.dumps(info))
    open_study(study)  # ...which is fine while the copy is the same
    meta = json.loads((data / "meta.json").read_text())
    (data / "meta.json").write_text(json.dumps({**meta, "note": "re-prepared"}))
    with pytest.raises(SupError, match="not the data this study was measured on"):
        open_study(study)


# --- inputs refused at init -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ("[learnin_rate]\nmin = 1e-3\nmax = 1e-2\n", "'learnin_rate' is not a config key"),
        ("[learning_rate]\nmin = 1e-2\nmax = 1e-3\n", "empty range"),
        ("[n_layer]\nvalues = []\n", "has no values"),
        ("[seed]\nvalues = [1, 2]\n", "a change of seed alone is noise"),
        ("[block_size]\nvalues = [8, 32]\n", "changes what is measured"),
        ("[learning_rate]\nmin = 0.0\nmax = 1e-2\nlog = true\n", "needs min > 0"),
    ],
)
def test_init_refuses_a_bad_space(tmp_path, char_data, space, message):
    with pytest.raises(UsageError, match=message):
        init_study(tmp_path / "s", char_data, BUDGET, space_file(tmp_path, space), None, SETS)
    assert not (tmp_path / "s").exists()


def test_init_refuses_a_budget_too_small_in_one_line(tmp_path, char_data):
    space = space_file(tmp_path, LR_SPACE)
    flags = [f if f != BUDGET else "1s" for f in harness_flags(char_data)]
    line = assert_cli_error(
        run_sup("research", "init", tmp_path / "s", *flags, "--space", space), 2
    )
    assert "under the 2s minimum" in line and not (tmp_path / "s").exists()
    init_study(tmp_path / "t", char_data, "2s", space, None, SETS)
    with pytest.raises(UsageError, match="another harness"):  # and a study's harness stays
        init_study(tmp_path / "t", char_data, "3s", space, None, SETS)


# --- the rules, on hand-made ledgers ------------------------------------------------------


def hand_row(id_: int, status: str, val: float | None, holdout: float | None = None,
             delta: dict | None = None) -> Row:  # fmt: skip
    return Row(id_, "", id_, "baseline" if status == "baseline" else "random", delta or {},
               f"h{id_}", val, holdout, 1, 1.0, 1.0, status, "")  # fmt: skip


BASELINE = [hand_row(1, "baseline", 1.00, 0.90), hand_row(2, "baseline", 1.02, 0.91),
            hand_row(3, "baseline", 0.98, 0.92)]  # fmt: skip  # mean 1.00, σ 0.02


def test_an_experiment_must_beat_the_best_by_more_than_two_sigma():
    assert standing(BASELINE[:2], seeds=3) is None  # no floor until every seed is in
    now = standing(BASELINE, seeds=3)
    assert now.best == "base" and now.val_bpb == pytest.approx(1.0)
    assert now.sigma == pytest.approx(0.02) and now.bar == pytest.approx(0.96)
    assert decide(0.97, None, now) == "discard"  # better, but inside the noise
    assert decide(0.96, None, now) == "discard"  # exactly 2σ is not more than 2σ
    assert not is_candidate(now.bar, now)
    assert decide(0.9599, 0.85, now) == "keep"
    rows = [*BASELINE, hand_row(4, "keep", 0.95, 0.85, {"learning_rate": 0.002})]
    now = standing(rows, seeds=3)  # a kept row is the new best; the floor stays
    assert (now.best, now.val_bpb, now.delta) == ("4", 0.95, {"learning_rate": 0.002})
    assert now.sigma == pytest.approx(0.02)
    assert decide(0.92, 0.80, now) == "discard"  # 0.95 - 0.04 = 0.91 to beat now


def test_the_holdout_vetoes_a_win_it_does_not_confirm():
    now = standing(BASELINE, seeds=3)  # holdout mean 0.91
    assert decide(0.90, 0.91, now) == "discard-holdout"  # equal is not better
    assert decide(0.90, 0.95, now) == "discard-holdout"
    assert decide(0.90, 0.9099, now) == "keep"
    with pytest.raises(ValueError):
        decide(0.90, None, now)  # a candidate is never decided without its holdout
    rows = [*BASELINE, hand_row(4, "discard-holdout", 0.90, 0.95)]
    assert standing(rows, seeds=3).best == "base"  # a vetoed row never becomes the best


def test_proposals_never_repeat_a_config_so_a_seed_change_is_impossible(base_study):
    study = open_study(base_study)
    study.knobs = knobs_from_table({"n_layer": {"values": [1, 2]}}, "test")  # base is 1
    rows = [hand_row(1, "baseline", 1.0, 0.9), hand_row(2, "baseline", 1.0, 0.9)]
    for row in rows:
        row.config_hash = study.config_hash({})
    first = propose_random(study, rows, rng_for(study, 3))
    assert first.delta == {"n_layer": 2}  # never {}, the baseline's config again
    rows.append(hand_row(3, "discard", 1.1, delta=first.delta))
    rows[-1].config_hash = study.config_hash(first.delta)
    assert propose_random(study, rows, rng_for(study, 4)) is None  # exhausted, not repeated


def test_local_steps_from_the_best_to_neighbours_within_the_space(base_study):
    study = open_study(base_study)  # base: learning_rate 3e-3, n_layer 1
    study.knobs = knobs_from_table(
        {"learning_rate": {"min": 1e-3, "max": 1e-2, "log": True},
         "n_layer": {"values": [1, 2, 4]}}, "test")  # fmt: skip
    rows = read_ledger(base_study)
    now = standing(rows, SEEDS)
    seen = set()
    for row_id in range(3, 23):
        p = propose_local(study, rows, now, rng_for(study, row_id))
        assert p == propose_local(study, rows, now, rng_for(study, row_id))  # seeded by row
        assert p.source == "local" and p.delta and set(p.delta) <= {"learning_rate", "n_layer"}
        assert p.delta.get("learning_rate", 3e-3) in (3e-3, 0.0045, 0.002)  # x or / 1.5
        assert p.delta.get("n_layer", 1) in (1, 2)  # the neighbour of 1, never 4
        seen.update(p.delta)
    assert seen == {"learning_rate", "n_layer"}
    best = standing([*rows, hand_row(3, "keep", 0.1, 0.1, {"n_layer": 2})], SEEDS)
    for row_id in range(4, 14):  # from a kept best, its change is the starting point
        p = propose_local(study, rows, best, rng_for(study, row_id))
        assert p.delta.get("n_layer", 1) in (1, 2, 4) and p.description.startswith("local from 3")


# --- the llm proposer ---------------------------------------------------------------------


class FakeClient:
    """The chat.completions.create surface of the openai client, replaying replies."""

    def __init__(self, replies):
        self.replies, self.requests = list(replies), []
        self.chat = self
        self.completions = self

    def create(self, model, messages, **options):
        self.requests.append(messages)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        from types import SimpleNamespace as NS

        usage = NS(prompt_tokens=10, completion_tokens=3)
        return NS(choices=[NS(message=NS(content=reply))], usage=usage)


def positive(obj: dict) -> int:
    if not isinstance(obj.get("x"), int) or obj["x"] <= 0:
        raise ValueError("x must be a positive int")
    return obj["x"]


def test_ask_json_reprompts_once_then_falls_back_declared():
    messages = [{"role": "user", "content": "x?"}]
    first = ask_json(FakeClient(['sure: ```json\n{"x": 3}\n```']), "m", messages, positive, int)
    assert (first.value, first.source, first.errors) == (3, "llm", [])
    client = FakeClient(['{"x": -1}', '{"x": 2}'])
    retry = ask_json(client, "m", messages, positive, int)
    assert (retry.value, retry.source) == (2, "llm-retry")
    assert "x must be a positive int" in client.requests[1][-1]["content"]
    assert client.requests[1][-2] == {"role": "assistant", "content": '{"x": -1}'}
    assert retry.usage == {"prompt_tokens": 20, "completion_tokens": 6}
    client = FakeClient([ConnectionError("down"), "no json here", '{"x": 9}'])
    gave_up = ask_json(client, "m", messages, positive, lambda: 7)
    assert (gave_up.value, gave_up.source, len(client.requests)) == (7, "fallback", 2)
    assert gave_up.errors[0].startswith("request failed") and "no JSON" in gave_up.errors[1]


def test_llm_proposer_against_a_real_sup_serve(study, char_data, llm_url):
    proc = sup_ok("research", "run", study, "--experiments", 1, "--proposer", "llm",
                  "--llm-url", llm_url, "--llm-model", "proposer-1",
                  "--llm-temperature", 0, "--json")  # fmt: skip
    result = json.loads(proc.stdout)
    rows = ledger(study)
    assert rows[SEEDS]["source"] == "llm" and json.loads(rows[SEEDS]["delta"]) == LLM_DELTA
    assert rows[SEEDS]["description"] == "llm: learning_rate=0.004"
    assert result["stats"]["llm_fallbacks"] == 0 and result["llm_usage"]["prompt_tokens"] > 0

    # a space where the model's delta is out of range: invalid twice, then local, counted
    reinit(study, char_data, "[learning_rate]\nmin = 0.01\nmax = 0.1\n")
    opened, rows = open_study(study), read_ledger(study)
    settings = LlmSettings(llm_url, "proposer-1", temperature=0.0)
    proposal = propose_llm(opened, rows, standing(rows, SEEDS), random.Random(0), settings)
    assert proposal.source == "fallback" and len(proposal.errors) == 2  # one re-prompt
    assert "must be in [0.01, 0.1], got 0.004" in proposal.errors[0]
    assert 0.01 <= proposal.delta["learning_rate"] <= 0.1
    assert proposal.usage["prompt_tokens"] > 0
    result = run_study(study, 1, "llm", settings)
    row = ledger(study)[SEEDS + 1]
    assert row["source"] == "fallback" and row["description"].startswith("llm fallback (")
    assert 0.01 <= json.loads(row["delta"])["learning_rate"] <= 0.1
    assert result["stats"]["llm_fallbacks"] == 1 and result["stats"]["source"]["llm"] == 1
