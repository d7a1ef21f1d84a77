"""Will a model fit? An estimate of the memory a config needs, checked before anything
is allocated, so an absurd shape (``n_layer = 10**20``) is one line instead of the
out-of-memory killer or an allocator traceback.

The estimate counts what dominates at this scale, in bytes:

- parameters: the tied embedding, the position table (``base``), and per layer
  attention (4 n_embd²) and MLP (8 n_embd²: 4x wide, or SwiGLU's three 8/3x matrices);
- training keeps 16 bytes per parameter (fp32 weights, gradients, two AdamW moments),
  plus 6 for bf16 (the bf16 copy and its gradient, beside the fp32 masters);
- activations kept for the backward pass: about 20 n_embd floats per token per layer,
  the attention scores (n_head x block² per sequence and layer, when SDPA materialises
  them on CPU), and the logits with their softmax and gradient (3 x vocab per token).

It is an estimate (within about 2x of the peak RSS measured here, which is what a
refusal needs): it refuses only what cannot fit, and says how large it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from sup.errors import UsageError

FLOAT = 4


def param_count(cfg, vocab_size: int) -> int:
    n = cfg.n_embd
    position = cfg.block_size * n if cfg.arch == "base" else 0
    return vocab_size * n + position + cfg.n_layer * 12 * n * n


def training_bytes(cfg, vocab_size: int, precision: str) -> int:
    params = param_count(cfg, vocab_size)
    per_param = 16 + (6 if precision == "bf16" else 0)
    tokens = cfg.batch_size * cfg.block_size
    activations = tokens * cfg.n_layer * 20 * cfg.n_embd * FLOAT
    scores = cfg.batch_size * cfg.n_layer * cfg.n_head * cfg.block_size**2 * FLOAT
    logits = 3 * tokens * vocab_size * FLOAT
    return params * per_param + activations + scores + logits


def inference_bytes(cfg, vocab_size: int) -> int:
    params = param_count(cfg, vocab_size)
    cache = 2 * cfg.n_layer * cfg.block_size * cfg.n_embd * FLOAT
    scores = cfg.n_head * cfg.block_size**2 * FLOAT
    return params * FLOAT + cache + scores + cfg.block_size * vocab_size * FLOAT


def available_bytes(device) -> int | None:
    """Memory the process can still get on ``device`` (None where unknown)."""
    if device.type == "cuda":
        import torch

        return torch.cuda.mem_get_info(device)[0]
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(cfg, vocab_size: int, device, *, training: bool, precision: str = "fp32") -> None:
    """Refuse, in one line, a model whose estimate exceeds the memory available."""
    need = (
        training_bytes(cfg, vocab_size, precision) if training else inference_bytes(cfg, vocab_size)
    )
    have = available_bytes(device)
    if have is None or need <= have:
        return
    what = "training it" if training else "loading it"
    raise UsageError(
        f"this model does not fit: {human(param_count(cfg, vocab_size))} parameters, and "
        f"{what} needs about {human_bytes(need)} but {device} has {human_bytes(have)} free: "
        "make it smaller (n_layer, n_embd, block_size, batch_size)"
    )


def human(n: int) -> str:
    for unit, size in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def human_bytes(n: int) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"
