"""Typed config: TOML files, --set overrides, unknown keys and wrong types, validation."""

from __future__ import annotations

import dataclasses

import pytest

from helpers import REPO
from sup.engine.config import (
    TrainConfig,
    check_value,
    config_from_dict,
    load_config,
    parse_override,
)
from sup.errors import UsageError

VALID_KEYS = [f.name for f in dataclasses.fields(TrainConfig)]


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file():
    assert load_config(None) == TrainConfig()


def test_toml_file_load(tmp_path):
    path = write(
        tmp_path,
        'arch = "modern"\nn_layer = 3\nn_head = 2\nn_embd = 64\nlearning_rate = 2e-3\n'
        "decay_lr = false\nsoftcap = 15\n# comment\n",
    )
    cfg = load_config(path)
    assert cfg.arch == "modern"
    assert (cfg.n_layer, cfg.n_head, cfg.n_embd) == (3, 2, 64)
    assert cfg.learning_rate == 2e-3
    assert cfg.decay_lr is False
    assert cfg.softcap == 15.0 and isinstance(cfg.softcap, float)  # int accepted for float
    assert cfg.batch_size == TrainConfig().batch_size  # untouched keys keep defaults


@pytest.mark.parametrize("name", ["kenosha.toml", "shakespeare-char-cpu.toml"])
def test_shipped_configs_load(name):
    cfg = load_config(REPO / "configs" / name)
    cfg.resolved()  # valid, with derived defaults filled


@pytest.mark.parametrize(
    ("item", "key", "value"),
    [
        ("n_layer=3", "n_layer", 3),
        (" n_embd = 48 ", "n_embd", 48),
        ("learning_rate=1e-3", "learning_rate", 1e-3),
        ("dropout=0", "dropout", 0.0),
        ("decay_lr=false", "decay_lr", False),
        ("decay_lr=True", "decay_lr", True),
        ("compile=yes", "compile", True),
        ("compile=0", "compile", False),
        ("arch=modern", "arch", "modern"),
        ("device=cpu", "device", "cpu"),
    ],
)
def test_set_parsing_with_types(item, key, value):
    got_key, got = parse_override(item)
    assert got_key == key
    assert got == value
    assert type(got) is type(value)


def test_set_overrides_toml(tmp_path):
    path = write(tmp_path, "n_layer = 3\nbatch_size = 8\n")
    cfg = load_config(path, ["n_layer=5", "dropout=0.25", "n_layer=2"])
    assert (cfg.n_layer, cfg.batch_size, cfg.dropout) == (2, 8, 0.25)  # last --set wins


@pytest.mark.parametrize("source", ["toml", "set", "dict"])
def test_unknown_key_lists_valid_keys(tmp_path, source):
    with pytest.raises(UsageError) as info:
        if source == "toml":
            load_config(write(tmp_path, "n_layers = 3\n"))
        elif source == "set":
            load_config(None, ["n_layers=3"])
        else:
            config_from_dict({"n_layers": 3}, "run.json")
    message = str(info.value)
    assert "unknown config key 'n_layers'" in message
    assert "valid keys:" in message
    listed = message.split("valid keys:", 1)[1]
    for key in VALID_KEYS:
        assert key in listed


@pytest.mark.parametrize(
    "toml",
    [
        'n_layer = "four"',
        "n_layer = 2.5",
        "n_layer = true",  # bool is not an int here
        'learning_rate = "fast"',
        "decay_lr = 1",
        "arch = 1",
        "dropout = [0.1]",
    ],
)
def test_wrong_type_in_toml(tmp_path, toml):
    key = toml.split("=")[0].strip()
    with pytest.raises(UsageError, match=f"config key '{key}' in .*config.toml must be"):
        load_config(write(tmp_path, toml + "\n"))


@pytest.mark.parametrize(
    "item",
    ["n_layer=four", "n_layer=2.5", "n_layer=", "learning_rate=fast", "decay_lr=maybe"],
)
def test_wrong_type_in_set(item):
    key = item.split("=")[0]
    with pytest.raises(UsageError, match=f"config key '{key}' in --set must be"):
        load_config(None, [item])


def test_set_needs_key_equals_value():
    with pytest.raises(UsageError, match="key=value"):
        parse_override("n_layer")


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(UsageError, match="not valid TOML"):
        load_config(write(tmp_path, "n_layer = = 3\n"))
    with pytest.raises(UsageError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_check_value_converts_int_to_float_only():
    assert check_value("learning_rate", 1, "x") == 1.0
    assert isinstance(check_value("learning_rate", 1, "x"), float)
    with pytest.raises(UsageError):
        check_value("learning_rate", True, "x")
    with pytest.raises(UsageError):
        check_value("max_iters", 10.0, "x")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["n_embd=30", "n_head=4"], "n_embd must be divisible by n_head"),
        (["arch=modern", "n_embd=36", "n_head=4"], "even head size"),
        (["arch=transformer"], "arch must be one of"),
        (["mlp=tanh"], "mlp must be"),
        (["n_layer=0"], "n_layer must be at least 1"),
        (["eval_interval=0"], "eval_interval must be at least 1"),
        (["dropout=1.0"], "dropout"),
        (["learning_rate=0"], "learning_rate must be positive"),
        (["learning_rate=1e-3", "min_lr=1e-2"], "min_lr"),
        (["lr_schedule=step"], "lr_schedule"),
        (["softcap=-1"], "softcap"),
        (["device=tpu"], "device"),
        (["precision=fp8"], "precision"),
        (["beta2=1.0"], "beta1 and beta2"),
    ],
)
def test_validate_errors(overrides, match):
    with pytest.raises(UsageError, match=match):
        load_config(None, overrides)


def test_validate_on_the_dataclass():
    with pytest.raises(UsageError, match="bad config: n_embd must be divisible by n_head"):
        TrainConfig(n_embd=100, n_head=3).validate()
    TrainConfig(n_embd=96, n_head=3).validate()


def test_resolved_fills_derived_defaults():
    base = TrainConfig(max_iters=321).resolved()
    assert base.mlp == "gelu" and base.lr_decay_iters == 321
    modern = TrainConfig(arch="modern", lr_decay_iters=50).resolved()
    assert modern.mlp == "relu2" and modern.lr_decay_iters == 50
    assert TrainConfig(arch="modern", mlp="swiglu").resolved().mlp == "swiglu"
    mc = TrainConfig(arch="modern", n_embd=64, n_head=4, softcap=10).model_config(77)
    assert (mc.vocab_size, mc.arch, mc.mlp, mc.softcap, mc.head_dim) == (77, "modern", "relu2",
                                                                         10.0, 16)  # fmt: skip


def test_config_dict_round_trip():
    cfg = TrainConfig(arch="modern", n_layer=2, learning_rate=5e-4, decay_lr=False)
    assert config_from_dict(cfg.to_dict(), "run.json") == cfg


@pytest.mark.parametrize("theta", ["0", "-10000"])
def test_rope_theta_must_be_positive(theta):
    # rope_theta <= 0 would give NaN RoPE tables and a run that trains to NaN
    with pytest.raises(UsageError, match="rope_theta"):
        load_config(None, ["arch=modern", f"rope_theta={theta}"])


@pytest.mark.parametrize("seed", ["-1", str(2**63)])
def test_seed_must_fit_torch(seed):
    with pytest.raises(UsageError, match="seed"):
        load_config(None, [f"seed={seed}"])
