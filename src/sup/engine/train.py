"""`sup train`: the training loop, with bit-exact resume.

Everything random in training comes from two torch generators: the global one (weight
init, dropout) and the batch sampler's own. Both are saved in every checkpoint together
with the weights, the AdamW moments, the grad scaler and the step, and the learning
rate is a pure function of the step. Validation uses fixed, evenly spaced windows and
draws no random numbers. So an interrupted run resumed from its last checkpoint
continues bit-identically on the same machine.

metrics.jsonl gets one object per logged step: ``step``, ``loss`` (mean training loss of
that step, nats/token), ``lr``, ``tokens_per_s`` (tokens of that step / its wall time),
``elapsed_s`` (training wall time since the run began, resumes included), and on eval
steps ``val_loss`` (nats/token) and ``val_bpb`` over the fixed val windows.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from sup.engine.checkpoint import (
    load_checkpoint,
    load_model_tensors,
    model_tensors,
    optimizer_from_tensors,
    optimizer_to_tensors,
    save_checkpoint,
)
from sup.engine.config import TrainConfig, parse_override
from sup.engine.device import autocast, pick_device, resolve_precision
from sup.engine.evaluate import byte_lengths, evaluate_windows
from sup.engine.master import MasterWeights
from sup.engine.model import GPT
from sup.engine.rundir import create_run_dir, data_fingerprint, open_run, write_run_info
from sup.engine.vocab import load_tokenizer
from sup.errors import Interrupted, SupError, UsageError
from sup.fileio import write_text_atomic
from sup.formats.data import load_meta, load_tokens

RESUME_OVERRIDABLE = ("max_iters", "eval_interval", "log_interval", "threads")


class Reporter:
    """Receives progress events; the CLI subclasses it to draw a progress bar."""

    def start(self, step: int, total: int, info: dict) -> None: ...
    def step(self, record: dict) -> None: ...
    def eval(self, record: dict) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_iters:
        return cfg.learning_rate * (step + 1) / (cfg.warmup_iters + 1)
    if not cfg.decay_lr:
        return cfg.learning_rate
    if cfg.lr_schedule == "wsd":
        decay_start = cfg.max_iters - max(1, round(cfg.wsd_decay_fraction * cfg.max_iters))
        if step < decay_start:
            return cfg.learning_rate
        progress = (step - decay_start) / max(1, cfg.max_iters - decay_start)
        return cfg.learning_rate + (cfg.min_lr - cfg.learning_rate) * min(progress, 1.0)
    if step >= cfg.lr_decay_iters:
        return cfg.min_lr
    ratio = (step - cfg.warmup_iters) / max(1, cfg.lr_decay_iters - cfg.warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))
    return cfg.min_lr + coeff * (cfg.learning_rate - cfg.min_lr)


class BatchSampler:
    """Random training windows, drawn from its own seeded generator."""

    def __init__(self, tokens: np.ndarray, block: int, batch: int, seed: int):
        self.tokens, self.block, self.batch = tokens, block, batch
        self.gen = torch.Generator().manual_seed(seed)
        self.offsets = np.arange(block + 1)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        starts = torch.randint(len(self.tokens) - self.block, (self.batch,), generator=self.gen)
        chunk = torch.from_numpy(
            self.tokens[starts.numpy()[:, None] + self.offsets].astype(np.int64)
        )
        return chunk[:, :-1], chunk[:, 1:]


def val_starts(n_tokens: int, block: int, n_windows: int) -> np.ndarray:
    """Evenly spaced window starts over the val split: same windows for every run."""
    last = n_tokens - block - 1
    return np.unique(np.linspace(0, last, min(n_windows, last + 1)).astype(np.int64))


def make_optimizer(
    params: list[torch.Tensor], cfg: TrainConfig, device: torch.device
) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices (dim >= 2) only, as nanoGPT does."""
    params = [p for p in params if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    fused = device.type in ("cpu", "cuda")
    return torch.optim.AdamW(
        groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), fused=fused
    )


def _check_length(tokens: np.ndarray, block: int, split: str) -> None:
    if len(tokens) < block + 2:
        raise SupError(
            f"the {split} split has {len(tokens)} tokens, fewer than block_size + 2 "
            f"({block + 2}): use a longer corpus or a smaller block_size"
        )


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop records logged after the checkpoint we resume from (they will be redone)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:  # a line cut short by a crash mid-write
            continue
        if record.get("step", step + 1) <= step:
            kept.append(line)
    write_text_atomic(path, "".join(line + "\n" for line in kept))


def train(
    run_dir: Path,
    cfg: TrainConfig | None = None,
    data_dir: Path | None = None,
    *,
    resume: bool = False,
    force: bool = False,
    overrides: list[str] = (),
    stop_after: int | None = None,
    reporter: Reporter | None = None,
) -> dict:
    reporter = reporter or Reporter()
    run_dir = Path(run_dir)
    if resume:
        run = open_run(run_dir)
        values = run.config.to_dict()
        for item in overrides:
            key, value = parse_override(item)
            if key not in RESUME_OVERRIDABLE:
                raise UsageError(
                    f"--set {key} cannot change when resuming (allowed: "
                    f"{', '.join(RESUME_OVERRIDABLE)}); start a new run instead"
                )
            values[key] = value
        cfg = TrainConfig(**values).resolved()
        data_dir = Path(data_dir) if data_dir else Path(run.info["data"]["dir"])
        now = data_fingerprint(data_dir)
        for name, digest in run.info["data"]["sha256"].items():
            if now.get(name) != digest:
                raise SupError(
                    f"data directory {data_dir} changed since this run started ({name} has "
                    "a different sha256): resume with the original data or start a new run"
                )
        model_sd, state_tensors, state = load_checkpoint(run_dir, "last")
    else:
        if cfg is None or data_dir is None:
            raise UsageError("sup train needs --data DATA_DIR and --out RUN_DIR")
        cfg = cfg.resolved()
        load_meta(data_dir)
    if stop_after is not None and stop_after < 1:
        raise UsageError("--stop-after must be at least 1")

    tok = load_tokenizer(Path(data_dir) / "tokenizer.json")
    train_tokens = load_tokens(data_dir, "train")
    val_tokens = load_tokens(data_dir, "val")
    _check_length(train_tokens, cfg.block_size, "train")
    _check_length(val_tokens, cfg.block_size, "val")

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    precision = resolve_precision(cfg.precision, device)

    torch.manual_seed(cfg.seed)
    model = GPT(cfg.model_config(tok.vocab_size)).to(device)
    # bf16: bf16 weights, fp32 masters in the optimizer; fp16: autocast + grad scaler.
    master = MasterWeights(model) if precision == "bf16" else None
    trained = master.parameters() if master else list(model.parameters())
    optimizer = make_optimizer(trained, cfg, device)
    forward_precision = "fp32" if master else precision  # weights already bf16
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    sampler = BatchSampler(train_tokens, cfg.block_size, cfg.batch_size, cfg.seed)
    step, best_val, elapsed, step_time = 0, math.inf, 0.0, 0.0

    metrics_path = run_dir / "metrics.jsonl"
    if resume:
        if master:
            master.load_state_dict({k: v.to(device) for k, v in model_sd.items()})
        else:
            load_model_tensors(model, {k: v.to(device) for k, v in model_sd.items()})
        optimizer_from_tensors(optimizer, state_tensors, state["optimizer"])
        if state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state_tensors["rng.torch"])
        sampler.gen.set_state(state_tensors["rng.sampler"])
        if device.type == "cuda" and "rng.cuda" in state_tensors:
            torch.cuda.set_rng_state(state_tensors["rng.cuda"])
        step, best_val = state["step"], state["best_val_loss"]
        elapsed, step_time = state["elapsed_s"], state["step_time_s"]
        _truncate_metrics(metrics_path, step)
        if step >= cfg.max_iters:
            raise UsageError(
                f"run already finished {step} of max_iters={cfg.max_iters} steps: "
                "extend it with --set max_iters=N"
            )
    else:
        create_run_dir(run_dir, force)
        write_run_info(run_dir, cfg, data_dir, model, tok)

    compiled = torch.compile(model) if cfg.compile else model
    starts = val_starts(len(val_tokens), cfg.block_size, cfg.eval_iters * cfg.batch_size)
    token_byte_lengths = byte_lengths(tok)  # for val_bpb; built once, not per eval
    tokens_per_step = cfg.tokens_per_step
    vocab = tok.vocab_size

    def checkpoint(pointers: list[str]) -> None:
        opt_tensors, opt_info = optimizer_to_tensors(optimizer)
        rng = {"rng.torch": torch.get_rng_state(), "rng.sampler": sampler.gen.get_state()}
        if device.type == "cuda":
            rng["rng.cuda"] = torch.cuda.get_rng_state()
        state = {
            "best_val_loss": best_val,
            "elapsed_s": elapsed,
            "step_time_s": step_time,
            "precision": precision,
            "optimizer": opt_info,
            "scaler": scaler.state_dict() if scaler.is_enabled() else None,
        }
        save_checkpoint(
            run_dir,
            step,
            master.state_dict() if master else model_tensors(model),
            {**opt_tensors, **rng},
            state,
            pointers,
        )

    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        reporter.message("stopping: finishing this step and saving a checkpoint")

    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(sig, on_signal)

    stats = model.stats()
    reporter.start(
        step,
        cfg.max_iters,
        {"params": stats.params, "precision": precision, "device": str(device)},
    )
    model.train()
    last_record: dict = {}
    try:
        with open(metrics_path, "a", encoding="utf-8") as metrics:
            while step < cfg.max_iters:
                t0 = time.perf_counter()
                lr = lr_at(step, cfg)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                loss_sum = 0.0
                for _ in range(cfg.gradient_accumulation_steps):
                    x, y = sampler.next()
                    x, y = x.to(device), y.to(device)
                    with autocast(device, forward_precision):
                        logits, _ = compiled(x)
                    loss = F.cross_entropy(logits.float().view(-1, vocab), y.reshape(-1))
                    loss_sum += loss.item()
                    scaler.scale(loss / cfg.gradient_accumulation_steps).backward()
                if master:
                    master.grads_to_master()
                if cfg.grad_clip > 0:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(trained, cfg.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
                if master:
                    master.master_to_model()
                step += 1
                dt = time.perf_counter() - t0
                step_time += dt
                record = {
                    "step": step,
                    "loss": loss_sum / cfg.gradient_accumulation_steps,
                    "lr": lr,
                    "tokens_per_s": tokens_per_step / dt,
                }
                is_eval = step % cfg.eval_interval == 0 or step == cfg.max_iters
                # Read the stop flag once: a signal landing between deciding to save and
                # deciding to exit would otherwise exit without the checkpoint it promised.
                stopping = stop.is_set()
                pointers: list[str] = []
                if is_eval:
                    record.update(
                        evaluate_windows(
                            model,
                            val_tokens,
                            starts,
                            cfg.batch_size,
                            tok,
                            device,
                            precision,
                            token_byte_lengths,
                        )
                    )
                    pointers = ["last", "best"] if record["val_loss"] < best_val else ["last"]
                    best_val = min(best_val, record["val_loss"])
                elif stopping or step == stop_after:
                    pointers = ["last"]
                elapsed += time.perf_counter() - t0
                record["elapsed_s"] = elapsed
                # Log before checkpointing: a checkpoint never gets ahead of metrics.jsonl,
                # and lines after the resumed checkpoint are dropped and redone.
                if is_eval or step % cfg.log_interval == 0:
                    metrics.write(json.dumps(record) + "\n")
                    metrics.flush()
                if pointers:
                    checkpoint(pointers)
                if is_eval:
                    reporter.eval(record)
                reporter.step(record)
                last_record = record
                if stopping:
                    raise Interrupted(step, run_dir)
                if step == stop_after:
                    break
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        reporter.close()

    return {
        "run_dir": str(run_dir),
        "step": step,
        "max_iters": cfg.max_iters,
        "finished": step >= cfg.max_iters,
        "loss": last_record.get("loss"),
        "val_loss": last_record.get("val_loss"),
        "val_bpb": last_record.get("val_bpb"),
        "best_val_loss": best_val if math.isfinite(best_val) else None,
        "elapsed_s": elapsed,
        "tokens_per_s": step * tokens_per_step / step_time if step_time else None,
        "params": stats.params,
        "flops_per_token": stats.flops_per_token,
        "precision": precision,
        "device": str(device),
    }
