"""Shared fixtures: a tiny kenosha corpus, prepared data and trained runs, all made
through the real ``sup`` command line once per test session.

Every model here is genuinely tiny (1 layer, 32 wide, 16-token context), so a training
run takes well under a second; most of the cost of a CLI call is importing torch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import NOTES, ODD_TEXT, SHARED_DATA, sets, skip_unless_ci, sup_ok


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        skip_unless_ci(f"shared corpora not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tinyshakespeare(shared_data) -> str:
    path = shared_data / "tinyshakespeare.txt"
    if not path.is_file():
        skip_unless_ci(f"{path} not found")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("session")


@pytest.fixture(scope="session")
def kenosha_txt(session_dir) -> Path:
    """A ~27k-character kenosha corpus written by `sup data kenosha`."""
    path = session_dir / "kenosha.txt"
    sup_ok("data", "kenosha", "--out", path, "--lines", 800, "--seed", 0)
    return path


@pytest.fixture(scope="session")
def char_data(session_dir, kenosha_txt) -> Path:
    out = session_dir / "char_data"
    sup_ok("prepare", kenosha_txt, "--tokenizer", "char", "--out", out)
    return out


@pytest.fixture(scope="session")
def char_run(session_dir, char_data) -> Path:
    """A tiny char model trained for 60 steps. Tests must not modify it (copy it)."""
    out = session_dir / "char_run"
    sup_ok(
        "train", "--data", char_data, "--out", out, "--quiet",
        *sets(max_iters=60, eval_interval=20),
    )  # fmt: skip
    return out


BPE_EXTRA = (
    "Naïve café, déjà vu — über straße. 世界你好，日本語のテキスト。 "
    "Emoji 🎉🚀👩‍👩‍👧 and ∑ ∞ ≠ ± µ.\n"
)


@pytest.fixture(scope="session")
def bpe_corpus(session_dir) -> Path:
    """Kenosha lines interleaved with multi-byte text, for a byte-level BPE model."""
    from sup.instruments.kenosha import generate_lines

    lines = generate_lines(600, seed=3)
    text = "".join(line + "\n" + (BPE_EXTRA if i % 10 == 0 else "") for i, line in enumerate(lines))
    path = session_dir / "bpe_corpus.txt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def bpe_data(session_dir, bpe_corpus) -> Path:
    out = session_dir / "bpe_data"
    sup_ok("prepare", bpe_corpus, "--tokenizer", "bpe:300", "--out", out)
    return out


@pytest.fixture(scope="session")
def bpe_run(session_dir, bpe_data) -> Path:
    out = session_dir / "bpe_run"
    sup_ok(
        "train", "--data", bpe_data, "--out", out, "--quiet",
        *sets(max_iters=20, eval_interval=10),
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def modern_char_run(session_dir, char_data) -> Path:
    """The char model in the modern architecture (RoPE, RMSNorm, QK-norm)."""
    out = session_dir / "modern_char_run"
    sup_ok(
        "train", "--data", char_data, "--out", out, "--quiet",
        *sets(max_iters=60, eval_interval=20, arch="modern"),
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def char_bundle(session_dir, modern_char_run) -> Path:
    """An fp32 bundle of the modern char model, exported through `sup export`. Read-only."""
    out = session_dir / "bundles" / "tiny-char-1"
    sup_ok(
        "export", modern_char_run, "--out", out, "--id", "tiny-char-1",
        "--demo-prompt", "you never",
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def bpe_bundle(session_dir, bpe_run) -> Path:
    """An int8 bundle of the base-architecture BPE model. Read-only."""
    out = session_dir / "bundles" / "tiny-bpe-1"
    sup_ok("export", bpe_run, "--out", out, "--id", "tiny-bpe-1", "--int8")
    return out


@pytest.fixture(scope="session")
def releases_dir(session_dir, char_bundle, bpe_bundle) -> Path:
    """A releases directory with both bundles and a generated registry.json. Read-only;
    copy it (shutil.copytree) before changing anything."""
    import shutil

    from sup.ship.registry import write_registry

    out = session_dir / "releases"
    out.mkdir()
    for bundle in (char_bundle, bpe_bundle):
        shutil.copytree(bundle, out / bundle.name)
    write_registry(out)
    return out


@pytest.fixture(scope="session")
def released(session_dir, char_run) -> Path:
    """Two real releases of ``char_run`` through `sup release`: ``tiny-1`` (fp32, card
    notes) and ``tiny-2`` (int8, --text with unseen characters, last checkpoint).
    Read-only: copy it before changing anything."""
    out = session_dir / "released"
    notes = session_dir / "release-notes.md"
    notes.write_text(NOTES, encoding="utf-8")
    odd = session_dir / "odd.txt"
    odd.write_text(ODD_TEXT, encoding="utf-8")
    sup_ok(
        "release", char_run, "--id", "tiny-1", "--releases", out,
        "--demo-prompt", "you never", "--card-notes", notes,
    )  # fmt: skip
    sup_ok(
        "release", char_run, "--id", "tiny-2", "--releases", out,
        "--int8", "--text", odd, "--checkpoint", "last",
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def gatsby_release(session_dir) -> Path:
    """gatsby-1 from the instrument's tiny preset (template corpus, through `sup
    build`): a release with instrument controls. Read-only."""
    releases = session_dir / "gatsby-releases"
    sup_ok("build", "gatsby", "--preset", "tiny", "--out", session_dir / "gatsby-build",
           "--release", "gatsby-1", "--releases", releases, "--quiet")  # fmt: skip
    return releases / "gatsby-1"


@pytest.fixture(scope="session")
def engine_installed() -> None:
    """The chess tests need Fairy-Stockfish (make test installs it)."""
    from sup.chess.engine import find_engine
    from sup.errors import SupError

    try:
        find_engine()
    except SupError:
        skip_unless_ci("Fairy-Stockfish is not installed (make test installs it)")
