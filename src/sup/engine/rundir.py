"""A run directory is self-describing: everything needed to sample or evaluate it.

::

    RUN_DIR/
      run.json          resolved config, model size, data directory and its sha256s
      tokenizer.json    copy of the data directory's tokenizer
      metrics.jsonl     one JSON object per logged step (see train.py)
      checkpoints/      see checkpoint.py

``sup sample RUN_DIR`` and ``sup eval RUN_DIR`` read nothing outside it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from sup import __version__
from sup.engine.checkpoint import load_checkpoint, load_model_tensors
from sup.engine.config import TrainConfig, config_from_dict
from sup.engine.model import GPT
from sup.engine.vocab import Tokenizer, load_tokenizer, save_tokenizer
from sup.errors import SupError, UsageError
from sup.fileio import sha256_file, write_json_atomic
from sup.formats.data import load_meta

RUN_FORMAT = "sup-run"
DATA_FILES = ("train.bin", "val.bin", "tokenizer.json")


@dataclass
class Run:
    path: Path
    config: TrainConfig
    tokenizer: Tokenizer
    info: dict


def data_fingerprint(data_dir: Path) -> dict[str, str]:
    out = {}
    for name in DATA_FILES:
        path = Path(data_dir) / name
        if not path.exists():
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
        if not (run_dir / "run.json").exists() and any(run_dir.iterdir()):
            raise UsageError(f"{run_dir} is not a sup run directory; refusing to replace it")
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)


def write_run_info(
    run_dir: Path, cfg: TrainConfig, data_dir: Path, model: GPT, tokenizer: Tokenizer
) -> dict:
    stats = model.stats()
    info = {
        "format": RUN_FORMAT,
        "version": 1,
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
            "documents": load_meta(data_dir)["source"]["documents"],
        },
    }
    save_tokenizer(tokenizer, Path(run_dir) / "tokenizer.json")
    write_json_atomic(Path(run_dir) / "run.json", info)
    return info


def open_run(run_dir: Path) -> Run:
    run_dir = Path(run_dir)
    path = run_dir / "run.json"
    if not path.exists():
        raise SupError(f"{run_dir} is not a sup run directory (no run.json)")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise SupError(f"{path} is corrupt ({e})") from None
    if info.get("format") != RUN_FORMAT:
        raise SupError(f"{path} is not a sup run file")
    cfg = config_from_dict(info["config"], str(path))
    return Run(run_dir, cfg, load_tokenizer(run_dir / "tokenizer.json"), info)


def load_model(
    run: Run, which: str = "best", device: torch.device | str = "cpu"
) -> tuple[GPT, dict]:
    """The trained model in eval mode, and the checkpoint's state JSON."""
    if which not in ("best", "last"):
        raise UsageError(f"--checkpoint must be best or last, got {which!r}")
    model_sd, _, state = load_checkpoint(run.path, which, with_state=False)
    model = GPT(run.config.model_config(run.info["model"]["vocab_size"]))
    load_model_tensors(model, model_sd)
    return model.to(device).eval(), state
