"""``sup build NAME``: corpus -> prepare -> train -> harness -> release, each step skipped
when its output exists and its inputs are unchanged.

Layout of a build directory (``--out``, default ``runs/NAME``)::

    build.json       the instrument, preset and, per finished step, the key it ran with
    corpus/          the corpus (``sup data NAME``) and its manifest
    data/            ``sup prepare``'s data directory
    run/             ``sup train``'s run directory
    harness.json     the harness report (``sup harness NAME``), harness.png its chart
    card-notes.md    the instrument's card notes with the harness figures (for release)

A step's key is the sha256 of what it reads: the corpus options and the ``--from``
source's bytes; the corpus manifest and tokenizer; the data's ``meta.json`` and the
resolved training config; the final checkpoint and the harness options; the release
id. A step whose key matches the one recorded, and whose output exists, is skipped, so
a second build is instant. Every step but training writes atomically (temp, rename),
so a killed step simply runs again; training resumes from its last checkpoint (kill -9
safe, engine/train.py) when its key is unchanged and starts afresh when it changed.
One build writes a directory at a time (``.lock``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sup.errors import SupError
from sup.fileio import sha256_file, write_json_atomic, write_text_atomic
from sup.instruments.catalog import remove_corpus
from sup.instruments.recipe import HarnessRequest, Instrument, Preset

BUILD_FILE = "build.json"
BUILD_FORMAT = "sup-build"
Report = Callable[[str], None]


# Config keys added after builds were first keyed: left out of a key at their defaults,
# so a build made before they existed stays up to date.
LATER_KEYS = ("optimizer", "muon_lr", "muon_momentum", "depth", "time_budget", "moe_experts",
              "moe_top_k", "moe_shared", "moe_bias_rate")  # fmt: skip


def config_for_key(cfg) -> dict:
    from sup.engine.config import TrainConfig

    defaults = TrainConfig().to_dict()
    return {k: v for k, v in cfg.to_dict().items() if not (k in LATER_KEYS and v == defaults[k])}


def digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def clean_step_staging(out: Path, corpus: Path) -> list[Path]:
    """Remove what a step killed mid-write left beside its output: the corpus writer's
    and ``sup prepare``'s temp directories (``.NAME.XXXXXXXX``) and temp files
    (``.NAME.XXXXXXXX.tmp``). Only those names, only plain entries, and only while the
    build's lock is held."""
    stale = []
    for parent, name in ((corpus.parent, corpus.name), (out, "data")):
        for path in parent.glob(f".{name}.*") if parent.is_dir() else ():
            if path.is_symlink():
                continue
            if path.is_dir():
                shutil.rmtree(path)
            elif path.name.endswith(".tmp"):
                path.unlink()
            else:
                continue
            stale.append(path)
    return stale


def source_digest(path: Path | None) -> str | None:
    """The ``--from`` source's identity: a file's sha256, or a directory's files' names
    and sha256s."""
    if path is None:
        return None
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return digest([(p.relative_to(path).as_posix(), sha256_file(p)) for p in files])
    return None  # the corpus builder says what is wrong with it


@dataclass
class Build:
    instrument: Instrument
    preset: Preset
    out: Path
    source: Path | None
    seed: int
    report: Report
    overrides: tuple[str, ...] = ()  # --set KEY=VALUE on top of the preset
    reporter: object = None  # engine.train.Reporter for the training step

    @property
    def corpus(self) -> Path:
        return self.out / "corpus" / self.instrument.corpus_name

    def config(self):
        from sup.engine.config import (
            TrainConfig,
            config_from_dict,
            depth_rules,
            load_config,
            parse_override,
        )

        values = dict(self.preset.config)
        path = values.pop("config", None)
        base = load_config(Path(path)).to_dict() if path else TrainConfig().to_dict()
        values.update(parse_override(item) for item in self.overrides)
        if values.get("depth"):  # the dial decides what the preset and --set do not
            dialled = depth_rules(config_from_dict({**base, **values}, "--set depth"))
            values = {**{k: v for k, v in dialled.items() if k not in values}, **values}
        cfg = config_from_dict({**base, **values}, f"preset {self.preset.name}")
        cfg.validate()
        return cfg.resolved()


def read_build(out: Path, instrument: str, preset: str) -> dict:
    """build.json, or a fresh record; a build directory of another instrument or preset
    is refused (its steps would be mixed with this one's)."""
    path = out / BUILD_FILE
    if not path.is_file():
        if out.exists() and any(p.name != ".lock" for p in out.iterdir()):
            raise SupError(f"{out} exists and is not a sup build directory: choose another --out")
        return {"format": BUILD_FORMAT, "instrument": instrument, "preset": preset, "steps": {}}
    try:
        record = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        record = None
    if not isinstance(record, dict) or not isinstance(record.get("steps"), dict):
        raise SupError(f"{path} is damaged: delete it to rebuild every step")
    if (record.get("instrument"), record.get("preset")) != (instrument, preset):
        raise SupError(
            f"{out} is a build of {record.get('instrument')} --preset {record.get('preset')}: "
            "choose another --out"
        )
    return record


def run_build(
    instrument: Instrument,
    preset_name: str,
    out: Path,
    source: Path | None = None,
    release_id: str | None = None,
    seed: int = 0,
    releases: Path = Path("releases"),
    report: Report = lambda text: None,
    overrides: tuple[str, ...] = (),
    reporter=None,
    below_floor: bool = False,
) -> dict:
    """Run every step that is not already done; returns build.json as written.
    A release under the instrument's floor is refused (after the harness, which is
    kept) unless ``below_floor``."""
    from sup.engine.rundir import hold_run_lock

    preset = instrument.preset(preset_name)
    if release_id is not None:  # a bad id fails now, not after the training
        from sup.formats.registry import split_id

        split_id(release_id)
    out = Path(out)
    record = read_build(out, instrument.name, preset_name)
    out.mkdir(parents=True, exist_ok=True)
    lock = hold_run_lock(out)
    try:
        if not (out / BUILD_FILE).is_file():  # mark the directory ours before any step
            write_json_atomic(out / BUILD_FILE, record)
        build = Build(instrument, preset, out, source, seed, report, tuple(overrides), reporter)
        clean_step_staging(out, build.corpus)  # the lock is ours: no step is writing them
        steps = record["steps"]

        def done(step: str, key: str, output: Path) -> bool:
            ok = steps.get(step, {}).get("key") == key and output.exists()
            if ok:
                report(f"{step}: up to date")
            return ok

        def finish(name: str, key: str, **facts) -> None:
            steps[name] = {"key": key, **facts}
            write_json_atomic(out / BUILD_FILE, record)

        version = () if instrument.corpus_version is None else (instrument.corpus_version,)
        key = digest("corpus", instrument.name, preset.corpus, seed, source_digest(source),
                     *version)  # fmt: skip
        if not done("corpus", key, build.corpus):
            report("corpus: building")
            remove_corpus(build.corpus)
            build.corpus.parent.mkdir(parents=True, exist_ok=True)
            instrument.make_corpus(build.corpus, source, preset.corpus, seed)
            finish("corpus", key)

        chat = None
        if instrument.chat is not None:
            from sup.play.chat import load_chat_template

            chat = load_chat_template(instrument.chat)
        # older keys stay valid: a chat template enters only a chat instrument's key
        key = digest("prepare", steps["corpus"]["key"], preset.tokenizer,
                     *((chat,) if chat else ()))  # fmt: skip
        if not done("prepare", key, out / "data" / "meta.json"):
            from sup.engine.prepare import prepare

            report(f"prepare: {preset.tokenizer} tokenizer")
            prepare(instrument.corpus_path(build.corpus), preset.tokenizer, out / "data",
                    force=True, chat=chat)  # fmt: skip
            finish("prepare", key)

        cfg = build.config()
        key = digest("train", sha256_file(out / "data" / "meta.json"), config_for_key(cfg))
        step = _train(build, cfg, key, record)
        finish("train", key, step=step)

        harness_opts = preset.harness
        key = digest("harness", steps["train"]["key"], step, harness_opts)
        if not done("harness", key, out / "harness.json"):
            report("harness: measuring")
            result = instrument.harness(
                HarnessRequest(
                    out / "run",
                    build.corpus,
                    harness_opts.get("samples"),
                    harness_opts.get("tokens"),
                    {k: v for k, v in harness_opts.items() if k not in ("samples", "tokens")},
                )
            )
            write_json_atomic(out / "harness.json", result)
            if instrument.chart is not None:
                instrument.chart(result, out / "harness.png")
            write_text_atomic(out / "card-notes.md", card_notes(instrument, result))
            finish("harness", key, headline=instrument.headline_value(result))

        if release_id:
            # older keys stay valid: only what an instrument adds goes into its key
            game = (instrument.game,) if instrument.game else ()
            int8 = instrument.int8 if preset.int8 is None else preset.int8
            fp32 = () if int8 else ("fp32",)
            key = digest("release", steps["harness"]["key"], release_id, str(releases),
                         instrument.controls, *game, *fp32)  # fmt: skip
            if not done("release", key, Path(releases) / release_id / "manifest.json"):
                from sup.ship.release import release

                refuse_below_floor(instrument, out, below_floor)
                report(f"release: {release_id}")
                # replace only a release this build made: never someone else's
                ours = steps.get("release", {}).get("id") == release_id
                release(out / "run", release_id, releases, int8=int8,
                        data_dir=out / "data",
                        demo_prompt=instrument.demo_prompt, card_notes=out / "card-notes.md",
                        controls=instrument.controls, game=instrument.game,
                        force=ours)  # fmt: skip
                finish("release", key, id=release_id)
        return record
    finally:
        lock.close()


def refuse_below_floor(instrument: Instrument, out: Path, below_floor: bool) -> None:
    """Stop before a release the instrument's floor rules out, unless ``below_floor``:
    everything up to the harness stays done, so the rerun with the flag is quick."""
    if instrument.release_floor is None or below_floor:
        return
    report = json.loads((out / "harness.json").read_text(encoding="utf-8"))
    if short := instrument.release_floor(report):
        raise SupError(
            f"not released: {short}; the build stays in {out} "
            "(rerun with --below-floor to release it anyway, as a study)"
        )


def _train(build: Build, cfg, key: str, record: dict) -> int:
    """Train, resume or skip; returns the run's final step."""
    from sup.engine.train import train
    from sup.formats.run import read_pointer

    run, steps = build.out / "run", record["steps"]
    last = None
    if steps.get("train", {}).get("key") == key and (run / "run.json").is_file():
        try:
            last = read_pointer(run, "last")[1]
        except SupError:
            last = None
    if last is not None and last >= cfg.max_iters:
        build.report("train: up to date")
        return last
    steps["train"] = {"key": key, "step": last}  # recorded first: a kill resumes it
    write_json_atomic(build.out / BUILD_FILE, record)
    if last is not None:
        build.report(f"train: resuming at step {last} of {cfg.max_iters}")
        result = train(run, resume=True, reporter=build.reporter)
    else:
        build.report(f"train: {cfg.max_iters} steps")
        result = train(run, cfg, build.out / "data", force=True, reporter=build.reporter)
    return result["step"]


def card_notes(instrument: Instrument, result: dict) -> str:
    """The instrument's own notes, then its harness figures (measured, with n)."""
    notes = instrument.card_notes.read_text() if instrument.card_notes else ""
    figures = "\n".join(f"- {line}" for line in instrument.summary_lines(result))
    return f"{notes.rstrip()}\n\n### Harness (`sup harness {instrument.name}`)\n\n{figures}\n"
