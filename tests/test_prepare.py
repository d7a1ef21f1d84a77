"""`sup prepare`: splits, token files, meta.json, multi-document input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from helpers import sup_ok
from sup.engine.prepare import prepare
from sup.engine.vocab import BpeTokenizer, CharTokenizer, load_tokenizer
from sup.errors import SupError, UsageError
from sup.formats.data import load_meta, load_tokens
from sup.instruments.kenosha import generate_corpus, generate_lines

TEXT = generate_corpus(200, seed=5) + "Ünïcödé tail — 世界 🎉 end.\n"


def doc_fraction(text: str) -> float:
    """The documented split rule, computed independently of sup."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) / 2**32


def read_ids(data_dir: Path, split: str) -> np.ndarray:
    """A split's ids, read straight from its shard files in meta.json's order."""
    meta = json.loads((data_dir / "meta.json").read_text())
    dtype = np.dtype(meta["dtype"])
    return np.concatenate(
        [np.fromfile(data_dir / s["file"], dtype=dtype) for s in meta[split]["shards"]]
    )


def split_docs(ids: np.ndarray, eot: int) -> list[list[int]]:
    """Token ids of each document; every document must end with the eot token."""
    assert len(ids) and ids[-1] == eot
    docs, cur = [], []
    for i in ids.tolist():
        if i == eot:
            docs.append(cur)
            cur = []
        else:
            cur.append(i)
    return docs


def test_single_file_last_tenth_is_val(tmp_path):
    src = tmp_path / "corpus.txt"
    src.write_text(TEXT, encoding="utf-8")
    meta = prepare(src, "char", tmp_path / "data")
    data = tmp_path / "data"
    cut = int(len(TEXT) * 0.9)
    assert (data / "val.txt").read_text(encoding="utf-8") == TEXT[cut:]
    tok = load_tokenizer(data / "tokenizer.json")
    assert isinstance(tok, CharTokenizer)
    train_ids, val_ids = read_ids(data, "train"), read_ids(data, "val")
    assert tok.decode(train_ids.tolist()) == TEXT[:cut]
    assert tok.eot_id not in train_ids  # one document: no separators
    # the tokenizer is trained on train only: the tail's unseen characters are <unk>
    tail_only = set(TEXT[cut:]) - set(TEXT[:cut])
    assert tail_only and not tail_only & set(tok.chars)
    n_oov = sum(TEXT[cut:].count(c) for c in tail_only)
    assert meta["val"]["oov_chars"] == n_oov
    assert int((val_ids == tok.unk_id).sum()) == n_oov


def test_meta_json_fields(tmp_path):
    src = tmp_path / "corpus.txt"
    src.write_text(TEXT, encoding="utf-8")
    data = tmp_path / "data"
    returned = prepare(src, "char", data)
    meta = json.loads((data / "meta.json").read_text())
    assert meta == returned
    assert load_meta(data) == meta
    cut = int(len(TEXT) * 0.9)
    train_text, val_text = TEXT[:cut], TEXT[cut:]
    assert meta["format"] == "sup-data"
    assert meta["dtype"] == "uint16"
    assert meta["tokenizer"] == {"type": "char", "vocab_size": len(set(train_text)) + 2,
                                 "spec": "char"}  # fmt: skip
    assert meta["source"]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert meta["source"]["kind"] == "text"
    assert meta["source"]["documents"] == 1
    assert meta["source"]["chars"] == len(TEXT)
    assert meta["split"]["val_fraction"] == 0.1
    assert "last 0.1" in meta["split"]["rule"]
    assert meta["train"]["chars"] == len(train_text)
    assert meta["val"]["chars"] == len(val_text)
    assert meta["train"]["bytes"] == len(train_text.encode("utf-8"))
    assert meta["val"]["bytes"] == len(val_text.encode("utf-8"))
    assert meta["val"]["bytes"] > meta["val"]["chars"]  # the tail has multi-byte chars
    assert meta["train"]["tokens"] == len(read_ids(data, "train")) == len(train_text)
    assert meta["val"]["tokens"] == len(read_ids(data, "val")) == len(val_text)
    listed = {p.name for p in data.iterdir()} - {"meta.json"}
    assert set(meta["files"]) == listed  # every other file, each with its sha256
    for name in listed:
        assert meta["files"][name] == hashlib.sha256((data / name).read_bytes()).hexdigest()
    assert meta["version"] == 2
    assert 0 <= meta["overlap"]["fraction"] <= 1
    assert meta["train"]["shards"] == [{"file": "train-000000.bin", "tokens": len(train_text)}]
    assert (data / "train-000000.bin").stat().st_size == 2 * meta["train"]["tokens"]  # uint16
    assert len(load_tokens(data, "val")) == meta["val"]["tokens"]


def test_val_fraction_is_respected(tmp_path):
    src = tmp_path / "corpus.txt"
    src.write_text(TEXT, encoding="utf-8")
    prepare(src, "byte", tmp_path / "data", val_fraction=0.25)
    cut = int(len(TEXT) * (1 - 0.25))
    assert (tmp_path / "data" / "val.txt").read_text(encoding="utf-8") == TEXT[cut:]
    assert read_ids(tmp_path / "data", "train").tobytes() != b""
    assert bytes(read_ids(tmp_path / "data", "train").tolist()) == TEXT[:cut].encode("utf-8")


def test_jsonl_documents(tmp_path):
    docs = [f"document {i}: " + line for i, line in enumerate(generate_lines(60, seed=9))]
    src = tmp_path / "corpus.jsonl"
    src.write_text(
        "\n".join(json.dumps({"text": d, "id": i}) for i, d in enumerate(docs)) + "\n\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    meta = prepare(src, "char", data, val_fraction=0.3)
    assert meta["source"]["kind"] == "jsonl"
    assert meta["source"]["documents"] == len(docs)
    tok = load_tokenizer(data / "tokenizer.json")
    train_docs = [tok.decode(d) for d in split_docs(read_ids(data, "train"), tok.eot_id)]
    val_docs = [tok.decode(d) for d in split_docs(read_ids(data, "val"), tok.eot_id)]
    assert sorted(train_docs + val_docs) == sorted(docs)
    assert all(doc_fraction(d) < 0.3 for d in val_docs)
    assert all(doc_fraction(d) >= 0.3 for d in train_docs)
    assert meta["train"]["documents"] == len(train_docs)
    assert meta["val"]["documents"] == len(val_docs)
    assert meta["train"]["tokens"] == sum(len(d) + 1 for d in train_docs)


def test_directory_input_hash_split_keeps_duplicates_together(tmp_path):
    unique = [f"doc {i}\n" + "\n".join(generate_lines(3, seed=100 + i)) for i in range(40)]
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    n = 0
    for copy in range(3):  # every document three times, in different files and folders
        for i, doc in enumerate(unique):
            folder = corpus / "sub" if (i + copy) % 2 else corpus
            (folder / f"f{copy}_{i:03d}.txt").write_text(doc, encoding="utf-8")
            n += 1
    (corpus / ".hidden.txt").write_text("HIDDEN FILE MUST BE SKIPPED", encoding="utf-8")
    data = tmp_path / "data"
    meta = prepare(corpus, "char", data, val_fraction=0.3)
    assert meta["source"]["kind"] == "dir"
    assert meta["source"]["documents"] == n
    tok = load_tokenizer(data / "tokenizer.json")
    assert "H" not in tok.chars  # the hidden file was not read

    train_ids = read_ids(data, "train")
    train_docs = [tok.decode(d) for d in split_docs(train_ids, tok.eot_id)]
    val_docs = [tok.decode(d) for d in split_docs(read_ids(data, "val"), tok.eot_id)]
    # one eot after every document
    assert int((train_ids == tok.eot_id).sum()) == len(train_docs) == meta["train"]["documents"]
    assert train_docs and val_docs
    assert not set(val_docs) & set(train_docs)  # no duplicate straddles the split
    assert len(train_docs) % 3 == 0 and len(val_docs) % 3 == 0  # copies stay together
    assert set(val_docs) == {d for d in unique if doc_fraction(d) < 0.3}
    assert (data / "val.txt").read_text(encoding="utf-8").split("\n\n") == val_docs
    assert meta["overlap"]["val_lines_in_train"] < meta["overlap"]["val_lines"]


def test_directory_hash_changes_with_content(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(30):
        (corpus / f"{i}.txt").write_text(f"text number {i}\n", encoding="utf-8")
    first = prepare(corpus, "byte", tmp_path / "a", val_fraction=0.3)["source"]["sha256"]
    (corpus / "7.txt").write_text("changed\n", encoding="utf-8")
    second = prepare(corpus, "byte", tmp_path / "b", val_fraction=0.3)["source"]["sha256"]
    assert first != second


def test_bpe_data_dir_uses_its_vocabulary(tmp_path):
    text = generate_corpus(400, seed=11) + ("世界 🎉 naïve\n" * 40)
    src = tmp_path / "corpus.txt"
    src.write_text(text, encoding="utf-8")
    data = tmp_path / "data"
    meta = prepare(src, "bpe:300", data)
    tok = load_tokenizer(data / "tokenizer.json")
    assert isinstance(tok, BpeTokenizer)
    # kenosha text has fewer than 300 - 257 useful merges: the vocabulary stops short
    assert 257 < tok.vocab_size <= 300
    assert meta["tokenizer"] == {"type": "bpe", "vocab_size": tok.vocab_size, "spec": "bpe:300"}
    train_ids, val_ids = read_ids(data, "train"), read_ids(data, "val")
    assert train_ids.max() < tok.vocab_size and val_ids.max() < tok.vocab_size
    cut = int(len(text) * 0.9)
    assert tok.decode(train_ids.tolist()) == text[:cut]
    assert tok.decode(val_ids.tolist()) == text[cut:]
    assert meta["train"]["tokens"] == len(train_ids) < len(text[:cut].encode("utf-8"))
    assert meta["val"]["oov_chars"] == 0


def test_prepare_cli_replaces_only_with_force(tmp_path, kenosha_txt, char_data):
    """The session data dir was made by the CLI; check it, then --force over a copy."""
    meta = load_meta(char_data)
    assert meta["tokenizer"]["type"] == "char"
    assert meta["source"]["sha256"] == hashlib.sha256(kenosha_txt.read_bytes()).hexdigest()
    out = tmp_path / "data"
    other = tmp_path / "other.txt"
    other.write_text(TEXT, encoding="utf-8")
    sup_ok("prepare", kenosha_txt, "--out", out, "--tokenizer", "byte")
    proc = sup_ok("prepare", other, "--out", out, "--tokenizer", "char", "--force")
    assert "char tokenizer" in proc.stderr
    assert load_meta(out)["tokenizer"]["type"] == "char"
    assert (out / "val.txt").read_text(encoding="utf-8") == TEXT[int(len(TEXT) * 0.9) :]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "other.txt"]  # no temp dirs


def test_prepare_errors_in_process(tmp_path):
    src = tmp_path / "corpus.txt"
    src.write_text(TEXT, encoding="utf-8")
    for bad in (0.0, 1.0, -0.5):
        with pytest.raises(UsageError, match="val-fraction"):
            prepare(src, "char", tmp_path / "d", val_fraction=bad)
    with pytest.raises(SupError, match="val split is empty"):
        docs = tmp_path / "docs"
        docs.mkdir()
        (docs / "one.txt").write_text("a", encoding="utf-8")
        (docs / "two.txt").write_text("b", encoding="utf-8")
        prepare(docs, "char", tmp_path / "d", val_fraction=0.0001)
    assert not (tmp_path / "d").exists()


def test_overlap_counts_val_lines_seen_verbatim_in_train(tmp_path):
    """Lines compared stripped; blank val lines are not counted; a line cut by the
    split belongs to both halves as a different line."""
    train_lines = ["alpha", "  beta  ", "gamma", "alpha"]
    val_lines = ["beta", "", "delta", "alpha  ", "  ", "epsilon"]
    text = "\n".join(train_lines) + "\n"
    val = "\n".join(val_lines) + "\n"
    src = tmp_path / "c.txt"
    src.write_text(text + val, encoding="utf-8")
    fraction = len(val) / len(text + val)
    meta = prepare(src, "char", tmp_path / "d", val_fraction=fraction - 1e-9)
    assert (tmp_path / "d" / "val.txt").read_text(encoding="utf-8") == val
    assert meta["overlap"] == {"val_lines": 4, "val_lines_in_train": 2, "fraction": 0.5}


@pytest.mark.parametrize("spec", ["char", "byte", "bpe:300"])
def test_shards_split_anywhere_give_the_same_tokens(tmp_path, spec):
    """Tiny shards (many files, windows crossing them) hold exactly the tokens of one
    big shard, and the memory-mapped reader returns them across boundaries."""
    text = generate_corpus(300, seed=8) + "世界 🎉 naïve\n" * 5
    src = tmp_path / "c.txt"
    src.write_text(text, encoding="utf-8")
    one = prepare(src, spec, tmp_path / "one")
    many = prepare(src, spec, tmp_path / "many", shard_tokens=97)
    assert len(many["train"]["shards"]) == -(-many["train"]["tokens"] // 97) > 10
    assert all(s["tokens"] == 97 for s in many["train"]["shards"][:-1])
    for split in ("train", "val"):
        ids = read_ids(tmp_path / "one", split)
        assert np.array_equal(read_ids(tmp_path / "many", split), ids)
        shards = load_tokens(tmp_path / "many", split)
        starts = np.array([0, 90, 96, 97, 150, len(ids) - 40])
        want = np.stack([ids[s : s + 40] for s in starts])
        assert np.array_equal(shards.windows(starts, 40), want)
        assert np.array_equal(shards.slice(95, 300), ids[95:300])
    for key in ("tokenizer", "source", "overlap"):
        assert one[key] == many[key]


def test_crlf_and_directory_input_read_as_text_mode_would(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    docs = {f"{i}.txt": f"line one {i}\r\nline two\rthree\n" * (i + 1) for i in range(30)}
    for name, text in docs.items():
        (corpus / name).write_bytes(text.encode("utf-8"))
    meta = prepare(corpus, "byte", tmp_path / "d", val_fraction=0.3)
    expected = {n: (corpus / n).read_text(encoding="utf-8") for n in docs}  # universal newlines
    assert "\r" not in "".join(expected.values())
    tok = load_tokenizer(tmp_path / "d" / "tokenizer.json")
    got = [tok.decode(d) for split in ("train", "val")
           for d in split_docs(read_ids(tmp_path / "d", split), tok.eot_id)]  # fmt: skip
    assert sorted(got) == sorted(expected.values())
    assert meta["source"]["chars"] == sum(len(t) for t in expected.values())


def test_not_utf8_names_the_byte(tmp_path):
    src = tmp_path / "bad.txt"
    src.write_bytes(b"fine text\n" * 1000 + b"\xff oops\n")
    with pytest.raises(SupError, match=r"bad.txt is not UTF-8 text \(byte 10000\)"):
        prepare(src, "char", tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_a_byte_order_mark_is_not_text(tmp_path):
    """A leading BOM (a text file's or a JSONL file's) is an encoding signature: it never
    becomes a character of the vocabulary or of val.txt."""
    body = "".join(f"line {i} of some text\n" for i in range(400))
    src = tmp_path / "bom.txt"
    src.write_bytes(b"\xef\xbb\xbf" + body.encode())
    prepare(src, "char", tmp_path / "d")
    assert "\ufeff" not in load_tokenizer(tmp_path / "d" / "tokenizer.json").chars
    assert load_meta(tmp_path / "d")["source"]["chars"] == len(body)
    jsonl = tmp_path / "bom.jsonl"
    lines = [json.dumps({"text": f"document {i} " * 20}) for i in range(60)]
    jsonl.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())
    prepare(jsonl, "char", tmp_path / "j")
    assert load_meta(tmp_path / "j")["source"]["documents"] == 60


def test_jsonl_strings_may_hold_any_line_separator(tmp_path):
    """Lines are cut at \\n only: U+2028, U+0085 and \\r inside a JSON string are text."""
    texts = [f"verse {i}\u2028next\u0085and\x1cmore\u2029end {i}" * 5 for i in range(50)]
    src = tmp_path / "seps.jsonl"
    src.write_text("\n".join(json.dumps(t and {"text": t}, ensure_ascii=False) for t in texts))
    meta = prepare(src, "char", tmp_path / "d")
    assert meta["source"]["documents"] == 50
    assert meta["source"]["chars"] == sum(len(t) for t in texts)
