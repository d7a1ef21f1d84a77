"""``sup release``: a trained run -> ``releases/NAME-N/`` (bundle + model card) + registry.

A release is an export bundle that also carries its held-out metrics and a model card,
listed in ``releases/registry.json``. The steps, cheapest and most likely to be refused
first, so a refusal costs nothing and writes nothing:

1. Check the id (``NAME-N``), the releases directory and the version rule: an existing
   id is replaced only with ``force``; a new version must be higher than every released
   version of its lineage (a lineage resolves to its highest version, so a lower one
   would never be played by name).
2. Load the checkpoint and score the held-out text (``evaluate.evaluate_text``).
3. Export into a hidden staging directory inside the releases directory, write the card
   (it needs the export's parity figures) and rewrite the manifest so its ``files``
   list hashes the card too.
4. Swap the bundle into place (an old one being replaced is moved into the staging
   directory, not deleted), then regenerate ``registry.json``. If that fails, the swap
   is undone. Only after the registry is written is the old bundle removed.

So a failure or Ctrl-C at any point leaves the releases directory exactly as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from sup.errors import SupError, UsageError
from sup.formats.manifest import CARD, MANIFEST, read_manifest
from sup.formats.registry import REGISTRY_FILE, resolve, split_id
from sup.ship.bundle import write_manifest
from sup.ship.registry import build_registry, write_registry


def check_release_target(releases: Path, release_id: str, force: bool) -> None:
    """Refuse a bad id, an occupied id without ``force`` or a version that does not go
    up, and a releases directory whose registry could not be regenerated anyway."""
    lineage, version = split_id(release_id)
    if releases.exists() and not releases.is_dir():
        raise UsageError(f"{releases} is not a directory: pass --releases DIR")
    try:
        models = build_registry(releases)["models"] if releases.is_dir() else []
    except SupError as e:
        raise SupError(f"cannot release into {releases}: {e} (see: sup check)") from None
    target = releases / release_id
    if target.exists():
        if not force:
            raise UsageError(
                f"{target} already exists: release the next version "
                f"({lineage}-{_next_version(models, lineage)}) or pass --force to replace it"
            )
        if not target.is_dir() or not (target / MANIFEST).exists():
            raise UsageError(f"{target} is not a sup bundle; refusing to replace it")
        read_manifest(target)
        return
    released = [e["version"] for e in models if e["lineage"] == lineage]
    if released and version <= max(released):
        raise UsageError(
            f"{lineage}-{max(released)} is already released and versions only go up: "
            f"release {lineage}-{max(released) + 1}"
        )


def _next_version(models: list[dict], lineage: str) -> int:
    return max((e["version"] for e in models if e["lineage"] == lineage), default=0) + 1


def held_out_text(run_info: dict, text: Path | None, data_dir: Path | None) -> Path:
    """``--text``, else ``val.txt`` of the data directory the run was trained on."""
    path = Path(text) if text else Path(data_dir or run_info["data"]["dir"]) / "val.txt"
    if not path.is_file():
        raise SupError(f"held-out text {path} not found: pass --text FILE (UTF-8)")
    return path


def read_text_file(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SupError(f"{what} {path} is not UTF-8 text") from None
    except OSError as e:
        raise SupError(f"cannot read {what} {path} ({e.strerror})") from None


def measure(run, checkpoint: str, text_path: Path) -> tuple[dict, dict]:
    """Held-out figures of the checkpoint (PyTorch, fp32, CPU) for the manifest, and
    the checkpoint's state (step, precision, wall time) for the card."""
    import torch

    from sup.engine.evaluate import evaluate_text
    from sup.engine.rundir import load_model

    text = read_text_file(text_path, "held-out text")
    model, state = load_model(run, checkpoint, "cpu")
    result = evaluate_text(model.float(), run.tokenizer, text, torch.device("cpu"), "fp32")
    keys = ("bits_per_char", "bits_per_byte", "token_loss", "tokens", "chars", "bytes")
    metrics = {
        **{k: result[k] for k in keys},
        "oov_chars": result["oov_chars"],
        "stride": result["stride"],
        "text": text_path.name,
        "text_sha256": result["text_sha256"],
        "scored_with": "pytorch-fp32",  # the checkpoint, not the (possibly int8) graphs
    }
    return metrics, state


def release(
    run_dir: Path,
    release_id: str,
    releases: Path = Path("releases"),
    *,
    checkpoint: str = "best",
    int8: bool = False,
    text: Path | None = None,
    data_dir: Path | None = None,
    demo_prompt: str = "",
    card_notes: Path | None = None,
    controls: dict | None = None,
    game: dict | None = None,
    force: bool = False,
) -> dict:
    """Release ``run_dir`` as ``releases/<release_id>/``; returns what was done."""
    from sup.engine.rundir import open_run
    from sup.ship.card import render_card, run_facts
    from sup.ship.export import export_bundle

    releases = Path(releases)
    check_release_target(releases, release_id, force)
    notes = read_text_file(Path(card_notes), "--card-notes") if card_notes else None
    run = open_run(Path(run_dir))
    text_path = held_out_text(run.info, text, data_dir)
    metrics, state = measure(run, checkpoint, text_path)
    facts = run_facts(run, state, data_dir)

    created = [d for d in (releases, *releases.parents) if not d.exists()]
    releases.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{release_id}.release-", dir=releases))
    try:
        staged = staging / release_id
        manifest = export_bundle(
            run.path,
            staged,
            checkpoint=checkpoint,
            int8=int8,
            bundle_id=release_id,
            demo_prompt=demo_prompt,
            controls=controls,
            game=game,
            metrics=metrics,
            data_dir=data_dir,
        )
        card = render_card(manifest, facts, notes)
        (staged / CARD).write_text(card, encoding="utf-8")
        write_manifest(staged, manifest)  # lists the card's sha256 among the files
        registry = _swap_in(staged, releases / release_id, staging / "previous")
        replaced = (staging / "previous").exists()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for d in created:  # deepest first; only directories this call made, if empty
            if not any(d.iterdir()):
                d.rmdir()
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return {
        "id": release_id,
        "path": str(releases / release_id),
        "manifest": read_manifest(releases / release_id),
        "card": str(releases / release_id / CARD),
        "registry": str(releases / REGISTRY_FILE),
        "models": [e["id"] for e in registry["models"]],
        "lineage_resolves_to": resolve(registry, split_id(release_id)[0])["id"],
        "text": str(text_path),
        "replaced": replaced,
    }


def _swap_in(staged: Path, target: Path, previous: Path) -> dict:
    """Move ``staged`` to ``target`` (an old ``target`` to ``previous``) and regenerate
    the registry; if anything fails, put everything back."""
    try:
        if target.exists():
            target.rename(previous)
        staged.rename(target)
        return write_registry(target.parent)
    except BaseException:
        if target.exists() and not staged.exists():
            target.rename(staged)
        if previous.exists():
            previous.rename(target)
        raise
