"""Pick the device and the numeric precision to run in.

``precision="auto"`` means bf16 autocast where the hardware does bf16 natively (CUDA
GPUs that support it; x86 CPUs with AVX512-BF16 or AMX), fp32 everywhere else. On a CPU
without native bf16, PyTorch emulates it and runs far slower than fp32, so the probe
reads the CPU flags and, where there are none to read, times a short matmul instead.
"""

from __future__ import annotations

import contextlib
import functools
import platform
import time
from pathlib import Path

import torch

from sup.errors import UsageError

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("device=cuda asked for, but no CUDA GPU is available")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UsageError("device=mps asked for, but MPS is not available")
    return torch.device(name)


def _cpu_flags() -> set[str] | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return None


def _bf16_matmul_faster(size: int = 256, reps: int = 8) -> bool:
    def timed(dtype: torch.dtype) -> float:
        a = torch.randn(size, size, dtype=dtype)
        b = torch.randn(size, size, dtype=dtype)
        a @ b  # warm-up
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        return time.perf_counter() - start

    return timed(torch.bfloat16) < timed(torch.float32)


@functools.cache
def cpu_has_fast_bf16() -> bool:
    flags = _cpu_flags()
    if flags is not None and platform.machine() in ("x86_64", "AMD64"):
        return bool(flags & {"avx512_bf16", "amx_bf16"})
    return _bf16_matmul_faster()


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision != "auto":
        if precision == "fp16" and device.type == "cpu":
            raise UsageError("precision=fp16 is for GPUs; use bf16 or fp32 on CPU")
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return "fp32"  # MPS: autocast support varies by macOS version; opt in explicitly


def autocast(device: torch.device, precision: str):
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=DTYPES[precision])
