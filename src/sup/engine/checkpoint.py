"""Checkpoints: safetensors for tensors, JSON for everything else, crash-safe.

Layout inside a run directory::

    checkpoints/
      step-00000250/
        model.safetensors   weights (the tied output head is not stored twice)
        state.safetensors   optimizer moments and RNG states
        state.json          step, schedule, optimizer hyper-parameters, sha256 of both files
      last.json             {"dir": "step-00000250", "step": 250}
      best.json             the same shape, for the lowest validation loss so far

A checkpoint directory is written under a temporary name and renamed when complete;
then the pointer files are replaced atomically; only then are directories no pointer
names removed. A crash at any moment leaves every pointer naming a complete checkpoint.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from sup.errors import SupError
from sup.fileio import sha256_file, write_json_atomic
from sup.formats.run import (
    CHECKPOINT_FILES,
    checkpoint_dir,
    checkpoint_name,
    read_checkpoint_state,
    read_pointer,
)

TIED_KEYS = ("lm_head.weight",)  # same tensor as wte.weight; re-tied on load


def model_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous() for k, v in model.state_dict().items() if k not in TIED_KEYS}


def load_model_tensors(model: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    try:
        missing, unexpected = model.load_state_dict(tensors, strict=False)
    except RuntimeError as e:  # a tensor of another shape: run.json no longer fits
        detail = _first(e)
        raise SupError(f"checkpoint does not fit the model run.json describes ({detail})") from None
    missing = [k for k in missing if k not in TIED_KEYS]
    if missing or unexpected:
        raise SupError(
            f"checkpoint does not fit the model (missing {missing[:3]}, unexpected "
            f"{unexpected[:3]}): was it made with another config?"
        )


def _first(e: Exception) -> str:
    """The first informative line of a PyTorch error (they span many lines)."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    detail = next((line for line in lines if "size mismatch" in line), lines[0] if lines else "")
    return detail[:200]


def optimizer_to_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer state dict into tensors (safetensors) and plain JSON."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict] = {}
    for idx, state in sd["state"].items():
        for name, value in state.items():
            if torch.is_tensor(value):
                tensors[f"optim.{idx}.{name}"] = value.contiguous()
            else:
                scalars.setdefault(str(idx), {})[name] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def optimizer_from_tensors(
    opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], info: dict
) -> None:
    state: dict[int, dict] = {}
    try:
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = value
        for idx, values in info["scalars"].items():
            state.setdefault(int(idx), {}).update(values)
        opt.load_state_dict({"state": state, "param_groups": info["param_groups"]})
    except (ValueError, KeyError, TypeError, RuntimeError) as e:
        raise SupError(
            f"checkpoint's optimizer state does not fit this model ({_first(e)})"
        ) from None


def save_checkpoint(
    run_dir: Path,
    step: int,
    model_sd: dict[str, torch.Tensor],
    state_tensors: dict[str, torch.Tensor],
    state: dict,
    pointers: list[str],
) -> str:
    """Write ``step-N/`` and point each name in ``pointers`` (``last``, ``best``, or its
    own name to keep it) at it."""
    ckpt_root = Path(run_dir) / "checkpoints"
    ckpt_root.mkdir(parents=True, exist_ok=True)
    name = checkpoint_name(step)
    final = ckpt_root / name
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=ckpt_root))
    try:
        save_file(model_sd, str(tmp / "model.safetensors"))
        save_file(state_tensors, str(tmp / "state.safetensors"))
        state = dict(state, step=step)
        state["files"] = {
            f: sha256_file(tmp / f) for f in ("model.safetensors", "state.safetensors")
        }
        (tmp / "state.json").write_text(json.dumps(state, indent=2) + "\n")
        if final.exists():  # the same step saved again (e.g. after an interrupt)
            shutil.rmtree(final)
        tmp.rename(final)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, Exception):  # a full disk or quota, not an interrupt
            raise _write_failed(name, ckpt_root, e) from None
        raise
    try:
        for pointer in pointers:
            write_json_atomic(ckpt_root / f"{pointer}.json", {"dir": name, "step": step})
    except OSError as e:
        raise _write_failed(name, ckpt_root, e) from None
    _prune(ckpt_root)
    return name


def _write_failed(name: str, ckpt_root: Path, e: Exception) -> SupError:
    """A checkpoint that could not be written: the pointers still name the previous one
    (it is never touched before the new one is complete), so say so."""
    reason = e.strerror if isinstance(e, OSError) and e.strerror else _first(e)
    try:
        previous = f"step {read_pointer(ckpt_root.parent, 'last')[1]} is intact"
    except SupError:
        previous = "no earlier checkpoint exists"
    return SupError(
        f"cannot write checkpoint {name} in {ckpt_root} ({reason}): {previous}; "
        "free some disk space and resume with sup train --resume"
    )


def _prune(ckpt_root: Path) -> None:
    keep = set()
    for pointer in ckpt_root.glob("*.json"):
        try:
            keep.add(read_pointer(ckpt_root.parent, pointer.stem)[0])
        except SupError:
            continue
    for d in ckpt_root.iterdir():
        if d.is_dir() and d.name.startswith("step-") and d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)


def load_checkpoint(
    run_dir: Path, which: str = "last", with_state: bool = True
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict]:
    """Return (model tensors, state tensors, state JSON), verified against the sha256s."""
    path = checkpoint_dir(run_dir, which)
    state = read_checkpoint_state(path)
    names = list(CHECKPOINT_FILES if with_state else CHECKPOINT_FILES[:1])
    loaded = []
    for fname in names:
        fpath = path / fname
        if not fpath.exists():
            raise SupError(f"checkpoint file {fpath} is missing")
        if sha256_file(fpath) != state["files"][fname]:
            raise SupError(f"checkpoint file {fpath} is corrupt (sha256 mismatch)")
        try:
            loaded.append(load_file(str(fpath)))
        except Exception as e:  # safetensors raises its own error types
            raise SupError(f"checkpoint file {fpath} cannot be read ({e})") from None
    model_sd = loaded[0]
    state_tensors = loaded[1] if with_state else {}
    return model_sd, state_tensors, state
