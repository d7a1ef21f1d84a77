"""The package layout's one hard rule: what players run imports no training stack.

``pip install sup`` brings numpy and onnxruntime only, so every module of the
torch-free packages (``sup.formats``, ``sup.play``, the shared ``sup.errors`` and
``sup.fileio``, and the player's CLI) must import with torch, jsonschema, Hugging Face
tokenizers, tqdm, safetensors and onnx all unimportable. The list of modules is read
from the tree, so a new module is covered the day it is added.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "sup"
TORCH_FREE_PACKAGES = ("formats", "play", "chess")
TORCH_FREE_MODULES = ("sup", "sup.errors", "sup.fileio", "sup.cli.main", "sup.cli.play")
BLOCKED = ("torch", "jsonschema", "tokenizers", "tqdm", "safetensors", "onnx", "onnxscript")


def modules_of(package: str) -> list[str]:
    return sorted(
        f"sup.{package}.{p.stem}" if p.stem != "__init__" else f"sup.{package}"
        for p in (SRC / package).glob("*.py")
    )


TORCH_FREE = [*TORCH_FREE_MODULES, *(m for pkg in TORCH_FREE_PACKAGES for m in modules_of(pkg))]


def import_blocked(module: str) -> subprocess.CompletedProcess:
    code = (
        "import sys\n"
        f"for name in {BLOCKED!r}:\n"
        "    sys.modules[name] = None  # import of it raises ImportError\n"
        f"import {module}\n"
        f"leaked = sorted(m for m in sys.modules if m.split('.')[0] in {BLOCKED!r} "
        "and sys.modules[m] is not None)\n"
        "assert not leaked, leaked\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_the_torch_free_packages_are_found():
    assert "sup.play.runtime" in TORCH_FREE and "sup.formats.manifest" in TORCH_FREE
    assert len(TORCH_FREE) >= 20


@pytest.mark.parametrize("module", TORCH_FREE)
def test_torch_free_module_imports_without_the_training_stack(module):
    proc = import_blocked(module)
    assert proc.returncode == 0, f"{module} needs the training stack:\n{proc.stderr}"


def test_the_check_is_not_vacuous():
    """An engine module does need torch, and the blocked import says so."""
    proc = import_blocked("sup.engine.model")
    assert proc.returncode != 0 and "torch" in proc.stderr


def test_every_package_is_documented_in_the_architecture():
    """Each subpackage and each of its modules appears in docs/ARCHITECTURE.md."""
    text = (SRC.parents[1] / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for package in sorted(p for p in SRC.iterdir() if (p / "__init__.py").is_file()):
        assert f"`sup/{package.name}/`" in text, package.name
        for module in package.glob("*.py"):
            if module.stem not in ("__init__", "__main__"):
                assert f"`{module.name}`" in text, f"{package.name}/{module.name}"
