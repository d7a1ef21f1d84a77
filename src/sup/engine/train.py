"""`sup train`: build a ``TrainState`` (new or resumed), then step it in a loop.

- ``start``: a new run, or a run resumed from its last checkpoint (``resume_config``
  decides which ``--set`` values a resume may take);
- ``train_step``: one optimizer step (gradient accumulation, clipping, the bf16 master
  weights), returning the step's loss and learning rate;
- ``train``: the loop: evaluation, checkpoints, metrics.jsonl, signals.

Resume is bit-exact: see ``state.py`` for what a checkpoint holds.

metrics.jsonl gets one object per logged step: ``step``, ``loss`` (mean training loss of
that step, nats/token), ``lr``, ``tokens_per_s`` (tokens of that step / its wall time),
``mfu`` (model FLOPs utilisation: tokens_per_s x the model's training FLOPs per token /
the peak matmul FLOP/s measured on this device at the start, ``device.peak_flops``),
``elapsed_s`` (training wall time since the run began, resumes included), and on eval
steps ``val_loss`` (nats/token) and ``val_bpb`` over the fixed val windows.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from sup.engine import distributed
from sup.engine.batches import IGNORE, check_length, val_starts
from sup.engine.config import TrainConfig, parse_override
from sup.engine.device import (
    autocast,
    peak_flops,
    pick_device,
    resolve_precision,
    set_threads,
)
from sup.engine.evaluate import evaluate_windows
from sup.engine.moe import update_bias
from sup.engine.rundir import (
    clean_stale_staging,
    create_run_dir,
    data_fingerprint,
    hold_run_lock,
    open_run,
    record_resume_changes,
    write_run_info,
)
from sup.engine.state import TrainState, build_state
from sup.engine.vocab import Tokenizer, load_tokenizer
from sup.errors import Interrupted, SupError, UsageError
from sup.fileio import write_json_atomic, write_text_atomic
from sup.formats.accounting import byte_lengths
from sup.formats.data import TokenShards, load_mask, load_meta, load_tokens
from sup.formats.run import METRICS, RUN_FILE, checkpoint_name, read_metrics, read_pointer

# What a resume may change: how long it runs and how it reports, never what it learns.
RESUME_OVERRIDABLE = ("max_iters", "eval_interval", "log_interval", "threads")
# After a divergence (diverged.json in the run directory) the optimisation may change
# too: resuming the last good checkpoint with a lower learning rate is the usual cure.
DIVERGED_OVERRIDABLE = (
    "learning_rate",
    "min_lr",
    "warmup_iters",
    "lr_decay_iters",
    "lr_schedule",
    "wsd_decay_fraction",
    "decay_lr",
    "grad_clip",
    "weight_decay",
    "beta1",
    "beta2",
)
DIVERGED = "diverged.json"


class Diverged(Exception):
    """A step produced a non-finite loss or gradient norm; the weights were not updated."""

    def __init__(self, step: int, what: str, value: float):
        super().__init__(f"{what} {value} at step {step}")
        self.step, self.what, self.value = step, what, value


class Reporter:
    """Receives progress events; the CLI subclasses it to draw a progress bar."""

    def start(self, step: int, total: int, info: dict) -> None: ...
    def step(self, record: dict) -> None: ...
    def eval(self, record: dict) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...


def lr_at(step: int, cfg: TrainConfig, spent: float = 0.0) -> float:
    """The learning rate of ``step``. With a ``time_budget`` the decay is keyed on the
    training seconds ``spent`` instead of the step (warmup stays in steps), so a faster
    change gets more steps at each point of the same schedule."""
    if step < cfg.warmup_iters:
        return cfg.learning_rate * (step + 1) / (cfg.warmup_iters + 1)
    if not cfg.decay_lr:
        return cfg.learning_rate
    if cfg.time_budget > 0:
        done = min(spent / cfg.time_budget, 1.0)
        if cfg.lr_schedule == "wsd":
            start = 1 - cfg.wsd_decay_fraction
            ramp = max(0.0, done - start) / cfg.wsd_decay_fraction
            return cfg.learning_rate + (cfg.min_lr - cfg.learning_rate) * min(ramp, 1.0)
        coeff = 0.5 * (1.0 + math.cos(math.pi * done))
        return cfg.min_lr + coeff * (cfg.learning_rate - cfg.min_lr)
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


def train_step(state: TrainState, forward) -> dict:
    """One optimizer step on ``gradient_accumulation_steps`` batches; ``forward`` is
    the model or its compiled twin. Returns {"loss", "lr"} of the step. Raises
    ``Diverged`` before the optimizer steps when the loss or the gradient norm is not
    finite, so the weights are never stepped with NaN (under fp16 the grad scaler
    skips non-finite gradients itself, so only the loss is checked there)."""
    cfg, opt = state.cfg, state.optimizer
    lr = lr_at(state.step, cfg, state.step_time)
    for group in opt.param_groups:  # Muon's groups run at muon_lr on the same schedule
        group["lr"] = lr * group.get("lr_scale", 1.0)
    accum = cfg.gradient_accumulation_steps
    loss_sum = None
    for micro in range(accum):
        # under DDP, gradients are all-reduced once, in the last micro-step's backward
        sync = micro == accum - 1 or not hasattr(forward, "no_sync")
        context = contextlib.nullcontext() if sync else forward.no_sync()
        x, y = state.sampler.next()
        x, y = x.to(state.device), y.to(state.device)
        with autocast(state.device, state.forward_precision):
            logits, _ = forward(x)
        flat = logits.float().view(-1, logits.size(-1))
        if state.sampler.mask is None:
            loss = F.cross_entropy(flat, y.reshape(-1))
        else:  # the mean over counted targets; a window with none adds nothing
            counted = (y != IGNORE).sum().clamp(min=1)
            loss = F.cross_entropy(flat, y.reshape(-1), reduction="sum") / counted
        loss_sum = loss.detach() if loss_sum is None else loss_sum + loss.detach()
        with context:
            state.scaler.scale(loss / accum).backward()
    if state.master:
        state.master.grads_to_master()
    loss_value = distributed.mean(loss_sum / accum, state.world).item()  # every rank agrees
    if not math.isfinite(loss_value):
        raise Diverged(state.step + 1, "training loss", loss_value)
    norm = None
    if cfg.grad_clip > 0:
        state.scaler.unscale_(opt)
        norm = torch.nn.utils.clip_grad_norm_(state.trained, cfg.grad_clip)
    if not state.scaler.is_enabled():  # fp16: the scaler skips non-finite gradients
        if norm is None:
            norm = torch.nn.utils.get_total_norm(
                [p.grad for p in state.trained if p.grad is not None]
            )
        if not math.isfinite(norm.item()):
            raise Diverged(state.step + 1, "gradient norm", norm.item())
    state.scaler.step(opt)
    state.scaler.update()
    opt.zero_grad(set_to_none=True)
    if state.master:
        state.master.master_to_model()
    state.step += 1
    record = {"loss": loss_value, "lr": lr}
    if cfg.mlp == "moe":  # the experts' load this step, and the balancing bias's move
        record["moe_load"] = update_bias(
            state.model, state.trained_by_name, cfg.moe_bias_rate, state.world
        )
    return record


def resume_config(run, overrides: list[str]) -> TrainConfig:
    """The saved config with ``--set`` overrides. Keys in RESUME_OVERRIDABLE may take
    any value; any other key only the value it already has (so a command line that
    repeats the run's settings still works)."""
    values = run.config.to_dict()
    free = RESUME_OVERRIDABLE
    if (run.path / DIVERGED).exists():
        free = (*RESUME_OVERRIDABLE, *DIVERGED_OVERRIDABLE)
    for item in overrides:
        key, value = parse_override(item)
        if key not in free:
            resolved = TrainConfig(**{**values, key: value}).resolved()
            if getattr(resolved, key) != getattr(run.config, key):
                raise UsageError(
                    f"--set {key} cannot change when resuming ({key} is "
                    f"{getattr(run.config, key)!r}; only {', '.join(free)} may "
                    "change): start a new run instead"
                )
        values[key] = value
    return TrainConfig(**values).resolved()


@dataclass
class Setup:
    cfg: TrainConfig
    data_dir: Path
    tokenizer: Tokenizer
    train_tokens: TokenShards
    val_tokens: TokenShards
    train_mask: TokenShards | None = None  # a chat corpus's loss mask (batches.py)
    val_mask: TokenShards | None = None


def _setup(cfg: TrainConfig, data_dir: Path) -> Setup:
    meta = load_meta(data_dir)
    tok = load_tokenizer(Path(data_dir) / "tokenizer.json")
    train_tokens = load_tokens(data_dir, "train", meta)
    val_tokens = load_tokens(data_dir, "val", meta)
    check_length(train_tokens, cfg.block_size, "train")
    check_length(val_tokens, cfg.block_size, "val")
    longest = meta.get("chat", {}).get("longest")
    if longest and longest["tokens"] > cfg.block_size + 1:
        raise SupError(
            f"{longest['where']}: a conversation of {longest['tokens']} tokens is longer "
            f"than block_size + 1 ({cfg.block_size + 1}), so its end would never be "
            "trained: shorten it or raise block_size"
        )
    return Setup(
        cfg,
        Path(data_dir),
        tok,
        train_tokens,
        val_tokens,
        load_mask(data_dir, "train", meta),
        load_mask(data_dir, "val", meta),
    )


def start(
    run_dir: Path,
    cfg: TrainConfig | None,
    data_dir: Path | None,
    *,
    resume: bool,
    force: bool,
    overrides: list[str],
    world: distributed.World = distributed.SINGLE,
) -> tuple[Setup, TrainState]:
    """The run's setup and its state: step 0 of a new run, or the last checkpoint. Only
    the main rank writes to the run directory; the others read it."""
    if resume:
        run = open_run(run_dir)
        cfg = resume_config(run, overrides)
        data_dir = Path(data_dir) if data_dir else Path(run.info["data"]["dir"])
        now = data_fingerprint(data_dir)
        for name, digest in run.info["data"]["sha256"].items():
            if now.get(name) != digest:
                raise SupError(
                    f"data directory {data_dir} changed since this run started ({name} has "
                    "a different sha256): resume with the original data or start a new run"
                )
    else:
        if cfg is None or data_dir is None:
            raise UsageError("sup train needs --data DATA_DIR and --out RUN_DIR")
        cfg = cfg.resolved()
    setup = _setup(cfg, data_dir)
    set_threads(cfg.threads)
    device = distributed.device_for(world, pick_device(cfg.device))
    precision = resolve_precision(cfg.precision, device)
    tok = setup.tokenizer
    state = build_state(
        cfg, tok.vocab_size, setup.train_tokens, device, precision, tok.eot_id, setup.train_mask,
        world.rank, world.size,
    )  # fmt: skip
    state.world = world
    if resume:
        if world.main:
            clean_stale_staging(run_dir)  # train() holds the lock: nothing else writes
        state.restore(run_dir)
        if not world.main:
            return setup, state
        _truncate_metrics(run_dir, state.step)
        if state.step >= cfg.max_iters:
            raise UsageError(
                f"run already finished {state.step} of max_iters={cfg.max_iters} steps: "
                "extend it with --set max_iters=N"
            )
        if cfg != run.config:  # run.json keeps saying what the run trains with
            record_resume_changes(run, cfg, state.step)
        (run_dir / DIVERGED).unlink(missing_ok=True)
    elif world.main:
        create_run_dir(run_dir, force)
        write_run_info(run_dir, cfg, setup.data_dir, state.model, setup.tokenizer)
    return setup, state


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
    run_dir = Path(run_dir)
    if stop_after is not None and stop_after < 1:
        raise UsageError("--stop-after must be at least 1")
    world = distributed.from_env()  # torchrun's process group, or this process alone
    reporter = (reporter or Reporter()) if world.main else Reporter()
    peer_lost = False
    try:
        if world.main:
            return _train_as_writer(run_dir, cfg, data_dir, resume, force, overrides,
                                    stop_after, reporter, world)  # fmt: skip
        setup, state = start(run_dir, cfg, data_dir, resume=resume, force=force,
                             overrides=list(overrides), world=world)  # fmt: skip
        return _train_loop(run_dir, setup, state, stop_after, reporter)
    except RuntimeError as e:
        if not world.distributed:
            raise
        # torchrun SIGTERMs the survivors once it sees a rank die, racing this rank's own
        # failed collective: the line saying what happened must get out first (torchrun
        # still sends SIGKILL 30 s later, so ignoring SIGTERM cannot leave a rank hanging)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        peer_lost = True
        raise lost_rank(run_dir, world, e) from None
    finally:
        distributed.leave(world, peer_lost=peer_lost)


def lost_rank(run_dir: Path, world: distributed.World, e: RuntimeError) -> SupError:
    """A collective failed under torchrun: another rank died or hung. Say so in a line,
    with the checkpoint to resume from (written whole by rank 0, or none yet)."""
    first = next((line for line in str(e).splitlines() if line.strip()), "")[:160]
    try:
        good = f"the last checkpoint is step {read_pointer(run_dir, 'last')[1]}"
    except SupError:
        good = "no checkpoint was saved yet"
    return SupError(
        f"rank {world.rank}: another rank stopped or stopped answering ({first}); {good}: "
        f"resume with torchrun ... -m sup train --resume {run_dir}"
    )


def _train_as_writer(run_dir, cfg, data_dir, resume, force, overrides, stop_after, reporter,
                     world) -> dict:  # fmt: skip
    # One writer per run directory: the lock is taken before anything in it changes
    # (a resume truncates metrics.jsonl, --force replaces the directory) and held until
    # training returns. A directory that is not a run yet gets its lock once created.
    lock = hold_run_lock(run_dir) if (run_dir / RUN_FILE).is_file() else None
    try:
        setup, state = start(
            run_dir, cfg, data_dir, resume=resume, force=force, overrides=list(overrides),
            world=world,
        )  # fmt: skip
        if not resume:  # a directory replaced by --force took its lock file with it
            if lock is not None:
                lock.close()
            lock = hold_run_lock(run_dir)
        return _train_loop(run_dir, setup, state, stop_after, reporter)
    finally:
        if lock is not None:
            lock.close()


def _train_loop(
    run_dir: Path, setup: Setup, state: TrainState, stop_after: int | None, reporter: Reporter
) -> dict:
    cfg, tok = setup.cfg, setup.tokenizer
    world = state.world
    forward = torch.compile(state.model) if cfg.compile else state.model
    if world.distributed:
        from torch.nn.parallel import DistributedDataParallel

        ids = [state.device.index] if state.device.type == "cuda" else None
        # buffers are not broadcast: the RoPE tables agree already, and a MoE's routed-token
        # counts are each rank's own until update_bias sums them
        forward = DistributedDataParallel(forward, device_ids=ids, broadcast_buffers=False)
    n_windows = cfg.eval_iters * cfg.batch_size * world.size  # of the global batch size
    starts = val_starts(setup.val_tokens, cfg.block_size, n_windows, cfg.windows, tok.eot_id)
    token_byte_lengths = byte_lengths(tok)  # for val_bpb; built once, not per eval
    tokens_per_step = cfg.tokens_per_step * world.size
    stats = state.model.stats()
    peak = peak_flops(state.device, state.precision)

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

    reporter.start(
        state.step,
        cfg.max_iters,
        {
            "params": stats.params,
            "precision": state.precision,
            "device": str(state.device),
            "peak_flops": peak,
        },
    )
    state.model.train()
    last_record: dict = {}
    try:
        # the other ranks write nothing (rank 0 may still be creating the directory)
        log = run_dir / "metrics.jsonl" if world.main else Path(os.devnull)
        with open(log, "a", encoding="utf-8") as metrics:
            while state.step < cfg.max_iters:
                t0 = time.perf_counter()
                record = train_step(state, forward)
                dt = time.perf_counter() - t0
                state.step_time += dt
                step = state.step
                record = {"step": step, **record, "tokens_per_s": tokens_per_step / dt}
                record["mfu"] = record["tokens_per_s"] * stats.flops_per_token / peak
                spent = cfg.time_budget > 0 and state.step_time >= cfg.time_budget
                is_eval = step % cfg.eval_interval == 0 or step == cfg.max_iters or spent
                # Read the stop flag once: a signal landing between deciding to save and
                # deciding to exit would otherwise exit without the checkpoint it promised.
                stopping = distributed.any_rank(stop.is_set(), world, state.device)
                pointers: list[str] = []
                if is_eval:
                    record.update(
                        evaluate_windows(
                            state.model,
                            setup.val_tokens,
                            starts,
                            cfg.batch_size,
                            tok,
                            state.device,
                            state.precision,
                            token_byte_lengths,
                            setup.val_mask,
                        )
                    )
                    if not math.isfinite(record["val_loss"]):
                        raise Diverged(step, "val loss", record["val_loss"])
                    improved = record["val_loss"] < state.best_val
                    pointers = ["last", "best"] if improved else ["last"]
                    if cfg.keep_checkpoints:  # a pointer of its own keeps it from pruning
                        pointers.append(checkpoint_name(step))
                    state.best_val = min(state.best_val, record["val_loss"])
                elif stopping or step == stop_after:
                    pointers = ["last"]
                state.elapsed += time.perf_counter() - t0
                record["elapsed_s"] = state.elapsed
                # Log before checkpointing: a checkpoint never gets ahead of metrics.jsonl,
                # and lines after the resumed checkpoint are dropped and redone.
                if world.main and (is_eval or step % cfg.log_interval == 0):
                    metrics.write(json.dumps(record) + "\n")
                    metrics.flush()
                if pointers and world.main:
                    state.save(run_dir, pointers, {"peak_flops": peak})
                if is_eval:
                    reporter.eval(record)
                reporter.step(record)
                last_record = record
                if stopping:
                    raise Interrupted(step, run_dir)
                if step == stop_after or spent:
                    break
    except Diverged as e:
        raise diverged_error(run_dir, e) from None
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        reporter.close()

    tokens_per_s = state.step * tokens_per_step / state.step_time if state.step_time else None
    return {
        "run_dir": str(run_dir),
        "step": state.step,
        "max_iters": cfg.max_iters,
        "finished": state.step >= cfg.max_iters
        or (cfg.time_budget > 0 and state.step_time >= cfg.time_budget),
        "loss": last_record.get("loss"),
        "val_loss": last_record.get("val_loss"),
        "val_bpb": last_record.get("val_bpb"),
        "best_val_loss": state.best_val if math.isfinite(state.best_val) else None,
        "elapsed_s": state.elapsed,
        "tokens_per_s": tokens_per_s,
        "mfu": tokens_per_s * stats.flops_per_token / peak if tokens_per_s else None,
        "peak_flops": peak,
        "params": stats.params,
        "flops_per_token": stats.flops_per_token,
        "precision": state.precision,
        "device": str(state.device),
    }


def diverged_error(run_dir: Path, e: Diverged) -> SupError:
    """Record the divergence (``diverged.json``) and say which checkpoint is good."""
    try:
        good = read_pointer(run_dir, "last")[1]
    except SupError:
        good = None
    write_json_atomic(
        run_dir / DIVERGED,
        {"step": e.step, "what": e.what, "value": repr(e.value), "last_good_step": good},
    )
    where = f"training diverged at step {e.step} ({e.what} {e.value})"
    if good is None:
        return SupError(
            f"{where} before any checkpoint was saved: start again with a lower "
            "learning_rate (or a longer warmup_iters)"
        )
    return SupError(
        f"{where}; nothing was saved after it, and the last good checkpoint is step {good}: "
        f"sup train --resume {run_dir} --set learning_rate=LOWER"
    )


def _truncate_metrics(run_dir: Path, step: int) -> None:
    """Drop records logged after the checkpoint we resume from (they will be redone)."""
    if not (run_dir / METRICS).exists():
        return
    kept = [r for r in read_metrics(run_dir) if r["step"] <= step]
    write_text_atomic(run_dir / METRICS, "".join(json.dumps(r) + "\n" for r in kept))
