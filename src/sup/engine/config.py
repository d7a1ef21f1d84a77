"""Typed training config: dataclass defaults, TOML files, ``--set key=value`` overrides.

Keys follow nanoGPT's names where they exist so configs carry over. Nothing is executed:
a TOML file is a flat table of keys; an unknown key or a value of the wrong type is a
``UsageError`` that lists what is valid.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sup.engine.batches import WINDOWS
from sup.engine.model import ARCHS, MLPS, ModelConfig
from sup.errors import UsageError

SHAPE_KEYS = ("n_layer", "n_head", "n_embd", "block_size", "batch_size")
MAX_SHAPE = 2**31 - 1  # what a tensor dimension holds


@dataclass
class TrainConfig:
    # model
    # one size dial (nanochat's idea): depth > 0 derives the keys in DEPTH_KEYS that the
    # config does not set itself (depth_rules); 0 = off
    depth: int = 0
    arch: str = "base"  # base (nanoGPT) | modern (RoPE, RMSNorm, QK-norm, no biases)
    n_layer: int = 6
    n_head: int = 6
    n_embd: int = 384
    block_size: int = 256
    dropout: float = 0.0
    # false: dropout only on the residual stream and embeddings, not on attention weights,
    # which keeps PyTorch's flash attention kernel (on CPU, attention dropout halves speed)
    attention_dropout: bool = True
    mlp: str = "auto"  # auto (gelu for base, relu2 for modern) | gelu | relu2 | swiglu | moe
    moe_experts: int = 4  # mlp = "moe": experts per layer (engine/moe.py)
    moe_top_k: int = 2  # experts each token is routed to
    moe_shared: bool = False  # also one shared expert every token uses
    moe_bias_rate: float = 1e-3  # the load-balancing bias's step per optimizer step
    softcap: float = 0.0  # logit soft-cap; 0 = off
    rope_theta: float = 10000.0
    # optimisation
    batch_size: int = 64
    windows: str = "anywhere"  # where training windows start: anywhere | documents
    gradient_accumulation_steps: int = 1
    max_iters: int = 5000
    learning_rate: float = 1e-3
    min_lr: float = 1e-4
    warmup_iters: int = 100
    decay_lr: bool = True  # false: constant learning rate after warmup
    lr_schedule: str = "cosine"  # cosine | wsd (warmup-stable-decay, linear cool-down)
    lr_decay_iters: int = 0  # cosine horizon; 0 = max_iters
    # seconds of training (optimizer steps, evals not counted); > 0 keys the decay on
    # them and stops there, max_iters still capping (sup research: equal wall budgets)
    time_budget: float = 0.0
    wsd_decay_fraction: float = 0.2  # wsd: share of max_iters spent cooling down
    weight_decay: float = 0.1
    # adamw | muon (Muon for the blocks' matrices, AdamW for the rest: engine/muon.py)
    optimizer: str = "adamw"
    muon_lr: float = 0.02  # Muon's peak learning rate (learning_rate is AdamW's)
    muon_momentum: float = 0.95
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # 0 = off
    # evaluation and logging
    eval_interval: int = 250
    eval_iters: int = 20  # val windows = eval_iters * batch_size
    log_interval: int = 1
    keep_checkpoints: bool = False  # keep every eval's checkpoint (step-N), not only last/best
    # runtime
    seed: int = 1337
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    compile: bool = False
    threads: int = 0  # torch intra-op threads; 0 = the idle usable cores (engine/device.py)

    def resolved(self) -> TrainConfig:
        """Fill the derived defaults (``mlp=auto``, ``lr_decay_iters=0``) and validate."""
        cfg = dataclasses.replace(self)
        if cfg.mlp == "auto":
            cfg.mlp = "gelu" if cfg.arch == "base" else "relu2"
        if cfg.lr_decay_iters == 0:
            cfg.lr_decay_iters = cfg.max_iters
        cfg.validate()
        return cfg

    def validate(self) -> None:
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise UsageError(f"bad config: {msg}")

        need(self.arch in ARCHS, f"arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        need(self.mlp in (*MLPS, "auto"), f"mlp must be auto or one of {', '.join(MLPS)}")
        for key in ("n_layer", "n_head", "n_embd", "block_size", "batch_size", "max_iters"):
            need(getattr(self, key) >= 1, f"{key} must be at least 1")
        for key in SHAPE_KEYS:  # what fits in memory is checked later (engine/memory.py)
            need(getattr(self, key) <= MAX_SHAPE, f"{key} must be at most {MAX_SHAPE}")
        for key in ("gradient_accumulation_steps", "eval_interval", "eval_iters", "log_interval"):
            need(getattr(self, key) >= 1, f"{key} must be at least 1")
        need(self.n_embd % self.n_head == 0, "n_embd must be divisible by n_head")
        need(
            self.arch != "modern" or (self.n_embd // self.n_head) % 2 == 0,
            "modern arch needs an even head size (n_embd / n_head) for RoPE",
        )
        need(0 <= self.dropout < 1, "dropout must be in [0, 1)")
        need(self.learning_rate > 0, "learning_rate must be positive")
        need(0 <= self.min_lr <= self.learning_rate, "min_lr must be in [0, learning_rate]")
        need(self.warmup_iters >= 0, "warmup_iters must be >= 0")
        need(self.lr_schedule in ("cosine", "wsd"), "lr_schedule must be cosine or wsd")
        need(self.windows in WINDOWS, f"windows must be one of {', '.join(WINDOWS)}")
        need(0 < self.wsd_decay_fraction <= 1, "wsd_decay_fraction must be in (0, 1]")
        need(self.weight_decay >= 0 and self.grad_clip >= 0, "weight_decay/grad_clip >= 0")
        need(0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "beta1 and beta2 must be in [0, 1)")
        need(self.softcap >= 0, "softcap must be >= 0")
        need(self.optimizer in ("adamw", "muon"), "optimizer must be adamw or muon")
        need(self.depth >= 0, "depth must be >= 0 (0 = off)")
        need(self.moe_experts >= 1, "moe_experts must be at least 1")
        need(1 <= self.moe_top_k <= self.moe_experts, "moe_top_k must be in [1, moe_experts]")
        need(self.moe_bias_rate >= 0, "moe_bias_rate must be >= 0")
        need(self.time_budget >= 0, "time_budget must be >= 0 (0 = off)")
        need(self.muon_lr > 0, "muon_lr must be positive")
        need(0 <= self.muon_momentum < 1, "muon_momentum must be in [0, 1)")
        need(self.device in ("auto", "cpu", "cuda", "mps"), "device: auto, cpu, cuda or mps")
        need(self.precision in ("auto", "fp32", "bf16", "fp16"), "precision: auto/fp32/bf16/fp16")
        need(self.threads >= 0, "threads must be >= 0")
        need(self.rope_theta > 0, "rope_theta must be positive")
        need(self.lr_decay_iters >= 0, "lr_decay_iters must be >= 0 (0 = max_iters)")
        for f in fields(self):
            value = getattr(self, f.name)
            need(not isinstance(value, float) or math.isfinite(value), f"{f.name} must be finite")
        need(0 <= self.seed < 2**63, "seed must be in [0, 2**63)")

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.block_size * self.gradient_accumulation_steps

    def model_config(self, vocab_size: int) -> ModelConfig:
        cfg = self.resolved()
        return ModelConfig(
            vocab_size=vocab_size,
            block_size=cfg.block_size,
            n_layer=cfg.n_layer,
            n_head=cfg.n_head,
            n_embd=cfg.n_embd,
            dropout=cfg.dropout,
            attention_dropout=cfg.attention_dropout,
            arch=cfg.arch,
            mlp=cfg.mlp,
            softcap=cfg.softcap,
            rope_theta=cfg.rope_theta,
            moe_experts=cfg.moe_experts,
            moe_top_k=cfg.moe_top_k,
            moe_shared=cfg.moe_shared,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FIELD_TYPES: dict[str, type] = {f.name: f.type for f in fields(TrainConfig)}
for _name, _t in FIELD_TYPES.items():  # annotations are strings under `from __future__`
    FIELD_TYPES[_name] = {"int": int, "float": float, "bool": bool, "str": str}[_t]


def _valid_keys() -> str:
    return ", ".join(FIELD_TYPES)


def check_value(key: str, value: Any, source: str) -> Any:
    """Return ``value`` converted to the key's type, or raise a UsageError."""
    if key not in FIELD_TYPES:
        raise UsageError(f"unknown config key {key!r} in {source}; valid keys: {_valid_keys()}")
    want = FIELD_TYPES[key]
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise UsageError(
            f"config key {key!r} in {source} must be {want.__name__}, "
            f"got {type(value).__name__} {value!r}"
        )
    return value


def parse_override(item: str) -> tuple[str, Any]:
    """``key=value`` from the command line, the value parsed by the key's type."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep:
        raise UsageError(f"--set expects key=value, got {item!r}")
    if key not in FIELD_TYPES:
        raise UsageError(f"unknown config key {key!r} in --set; valid keys: {_valid_keys()}")
    want = FIELD_TYPES[key]
    raw = raw.strip()
    try:
        if want is bool:
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return key, lowered in ("true", "1", "yes")
        return key, want(raw)
    except ValueError:
        raise UsageError(
            f"config key {key!r} in --set must be {want.__name__}, got {raw!r}"
        ) from None


def load_config(path: Path | None, overrides: list[str] = (), processes: int = 1) -> TrainConfig:
    """The config file, then ``--set`` overrides, then what ``depth`` derives for the keys
    still unset. ``processes``: how many data-parallel processes will train it (torchrun's
    world size), so depth's token budget counts every process's batch."""
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise UsageError(f"config file not found: {path}")
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise UsageError(f"config {path} is not valid TOML: {e}") from None
        except UnicodeDecodeError as e:
            raise UsageError(
                f"config {path} is not UTF-8 text (byte {e.start}): save it as UTF-8"
            ) from None
        for key, value in table.items():
            values[key] = check_value(key, value, str(path))
    for item in overrides:
        key, value = parse_override(item)
        values[key] = value
    if values.get("depth"):
        derived = depth_rules(TrainConfig(**values), processes)
        values.update({k: v for k, v in derived.items() if k not in values})
    cfg = TrainConfig(**values)
    cfg.validate()
    return cfg


# What ``depth`` decides, unless the config sets the key itself.
DEPTH_KEYS = ("n_layer", "n_embd", "n_head", "learning_rate", "min_lr", "max_iters",
              "warmup_iters")  # fmt: skip
ASPECT = 64  # n_embd per layer, and the head size
TOKENS_PER_PARAM = 20  # the Chinchilla ratio, on non-embedding parameters


def depth_rules(cfg: TrainConfig, processes: int = 1) -> dict[str, Any]:
    """The model and budget one ``depth`` stands for (rules as nanochat's, scaled to this
    studio): ``n_layer = depth``, ``n_embd = 64 * depth``, heads of 64; AdamW's rate
    ``3e-3 * sqrt(256 / n_embd)`` (smaller steps for wider matrices), ``min_lr`` a tenth
    of it; training for ``20 * 12 * n_layer * n_embd**2`` tokens (20 per non-embedding
    parameter) at the config's tokens per step times ``processes`` (under DDP each
    process reads its own batch), with 5% of the steps as warmup."""
    if cfg.depth < 1:
        raise UsageError(f"bad config: depth must be at least 1 (0 = off), got {cfg.depth}")
    n_embd = ASPECT * cfg.depth
    lr = 3e-3 * math.sqrt(256 / n_embd)
    tokens = TOKENS_PER_PARAM * 12 * cfg.depth * n_embd**2
    max_iters = max(1, math.ceil(tokens / (cfg.tokens_per_step * processes)))
    return {
        "n_layer": cfg.depth,
        "n_embd": n_embd,
        "n_head": n_embd // ASPECT,
        "learning_rate": lr,
        "min_lr": lr / 10,
        "max_iters": max_iters,
        "warmup_iters": max(1, max_iters // 20),
    }


def config_from_dict(data: dict[str, Any], source: str) -> TrainConfig:
    values = {key: check_value(key, value, source) for key, value in data.items()}
    return TrainConfig(**values)
