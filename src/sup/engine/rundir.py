"""The run directory (format: sup/formats/run.py): creating it, recording what a run
was trained on, opening it, and loading its trained model."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from sup import __version__
from sup.engine.checkpoint import load_checkpoint, load_model_tensors
from sup.engine.config import TrainConfig, config_from_dict
from sup.engine.memory import check_fits
from sup.engine.model import GPT
from sup.engine.vocab import Tokenizer, load_tokenizer, save_tokenizer
from sup.errors import SupError, UsageError
from sup.fileio import sha256_file, write_json_atomic
from sup.formats.data import META, load_meta
from sup.formats.run import (
    CHECKPOINTS,
    RUN_FILE,
    RUN_FORMAT,
    RUN_VERSION,
    is_pointer_name,
    read_run_info,
)


@dataclass
class Run:
    path: Path
    config: TrainConfig
    tokenizer: Tokenizer
    info: dict


def data_fingerprint(data_dir: Path) -> dict[str, str]:
    """sha256 of the data directory's meta.json and of every file it lists: what the
    run was trained on, checked again on resume."""
    data_dir = Path(data_dir)
    names = [META, *load_meta(data_dir)["files"]]
    out = {}
    for name in names:
        path = data_dir / name
        if not path.is_file():
            raise SupError(f"{path} is missing: re-run `sup prepare`")
        out[name] = sha256_file(path)
    return out


def create_run_dir(run_dir: Path, force: bool) -> None:
    run_dir = Path(run_dir)
    if run_dir.exists():
        if not force:
            raise UsageError(
                f"run directory {run_dir} already exists: resume it with --resume, "
                "pick another --out, or pass --force to replace it"
            )
        if not (run_dir / RUN_FILE).exists() and any(run_dir.iterdir()):
            raise UsageError(f"{run_dir} is not a sup run directory; refusing to replace it")
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)


def write_run_info(
    run_dir: Path, cfg: TrainConfig, data_dir: Path, model: GPT, tokenizer: Tokenizer
) -> dict:
    stats = model.stats()
    meta = load_meta(data_dir)
    info = {
        "format": RUN_FORMAT,
        "version": RUN_VERSION,
        "sup_version": __version__,
        "config": cfg.to_dict(),
        "model": {
            "vocab_size": model.cfg.vocab_size,
            "params": stats.params,
            "non_embedding_params": stats.non_embedding_params,
            "flops_per_token": stats.flops_per_token,
        },
        "tokenizer": {"type": tokenizer.kind, "vocab_size": tokenizer.vocab_size},
        "data": {
            "dir": str(Path(data_dir).resolve()),
            "sha256": data_fingerprint(data_dir),
            "documents": meta["source"]["documents"],
            # a chat corpus's template: what the model's turns look like (export uses it)
            **({"chat": meta["chat"]["template"]} if "chat" in meta else {}),
        },
    }
    save_tokenizer(tokenizer, Path(run_dir) / "tokenizer.json")
    write_json_atomic(Path(run_dir) / RUN_FILE, info)
    return info


LOCK = ".lock"


def hold_run_lock(run_dir: Path):
    """An exclusive lock on the run directory (``flock`` on its ``.lock`` file), held
    while the returned file stays open; the kernel drops it when the process dies, so
    a kill -9 never leaves a stale lock. A second writer is refused in one line."""
    import fcntl

    handle = open(Path(run_dir) / LOCK, "a")  # noqa: SIM115 (the caller closes it)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise UsageError(
            f"{run_dir} is being trained by another sup process: wait for it to finish "
            "or stop it first (a run directory has one writer at a time)"
        ) from None
    return handle


def clean_stale_staging(run_dir: Path) -> list[Path]:
    """Remove what a kill left behind while writing: checkpoint directories still under
    their temporary name (``checkpoints/.step-N.*``, engine/checkpoint.py) and temp
    files of atomic writes (``.NAME.*.tmp``, sup/fileio.py). Call it only while holding
    the run's lock: then no writer can own them. Returns what was removed."""
    run_dir = Path(run_dir)
    ckpts = run_dir / CHECKPOINTS
    stale = [p for p in ckpts.glob(".step-*") if p.is_dir() and not p.is_symlink()]
    for d in (run_dir, ckpts):
        stale += [p for p in d.glob(".*.tmp") if p.is_file() and not p.is_symlink()]
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def record_resume_changes(run: Run, cfg: TrainConfig, step: int) -> None:
    """Update run.json's config to what a resume trains with, keeping a history of
    each change (``resumes``: step and the keys that changed, old and new)."""
    old, new = run.config.to_dict(), cfg.to_dict()
    changed = {k: [old[k], new[k]] for k in new if old.get(k) != new[k]}
    info = dict(run.info)
    info["config"] = new
    info["resumes"] = [*info.get("resumes", []), {"step": step, "changed": changed}]
    write_json_atomic(run.path / RUN_FILE, info)


def open_run(run_dir: Path) -> Run:
    """A run directory, its tokenizer checked against the sha256 run.json recorded when
    training started (every reader of a run comes here: sample, eval, export, release,
    resume), so an edited tokenizer is never used or shipped silently."""
    run_dir = Path(run_dir)
    info = read_run_info(run_dir)
    cfg = config_from_dict(info["config"], str(run_dir / RUN_FILE))
    tok_path = run_dir / "tokenizer.json"
    recorded = info.get("data", {}).get("sha256", {}).get("tokenizer.json")
    if recorded is not None and tok_path.is_file() and sha256_file(tok_path) != recorded:
        raise SupError(
            f"{tok_path} is not the tokenizer this run was trained with (its sha256 differs "
            f"from the one {RUN_FILE} recorded): restore it from the data directory"
        )
    return Run(run_dir, cfg, load_tokenizer(tok_path), info)


def load_model(
    run: Run, which: str = "best", device: torch.device | str = "cpu"
) -> tuple[GPT, dict]:
    """The trained model in eval mode, and the checkpoint's state JSON."""
    if not is_pointer_name(which):
        raise UsageError(f"--checkpoint must be best, last or a kept step-N, got {which!r}")
    vocab = run.info["model"]["vocab_size"]
    check_fits(run.config, vocab, torch.device(device), training=False)
    model_sd, _, state = load_checkpoint(run.path, which, with_state=False)
    model = GPT(run.config.model_config(vocab))
    load_model_tensors(model, model_sd)
    return model.to(device).eval(), state
