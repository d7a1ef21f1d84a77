"""Pick the device and the numeric precision to run in.

``precision="auto"`` means bf16 where the hardware does bf16 natively (CUDA GPUs that
support it; x86 CPUs with AVX512-BF16 or AMX), fp32 everywhere else; training then
keeps bf16 weights with fp32 masters (``master.py``), and fp16 on a GPU without bf16
uses autocast. On a CPU without native bf16, PyTorch emulates it and runs far slower
than fp32, so the probe reads the CPU flags and, where there are none to read, times a
short matmul instead. ``peak_flops`` measures the matmul peak that MFU divides by.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import time
from pathlib import Path

import torch

from sup.errors import UsageError

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


DEVICE_TYPES = ("cpu", "cuda", "mps")
BUSY = 0.5  # a core more than half busy with other work does not get a thread


def usable_cores() -> list[int]:
    """The CPUs this process may run on (its affinity mask, which containers and
    ``taskset`` narrow; ``os.cpu_count()`` counts the whole machine)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return list(range(os.cpu_count() or 1))


def _core_times() -> dict[int, tuple[int, int]]:
    """(busy, total) jiffies per CPU from /proc/stat; empty where there is none."""
    times = {}
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return times
    for line in lines:
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            ticks = [int(v) for v in values[:8]]
            idle = ticks[3] + ticks[4]  # idle + iowait
            times[int(name[3:])] = (sum(ticks) - idle, sum(ticks))
    return times


def default_threads(sample_s: float = 0.2) -> int:
    """Threads for PyTorch when ``threads = 0``: the usable cores minus those other
    processes keep busy, sampled over ``sample_s``. Spinning threads on a core another
    process holds contend with it: on a 2-core machine with one core busy, torch's
    default ran about 100x slower than one thread (benchmarks/busy_machine.py). Our
    own process is idle while it samples, so its threads are not counted."""
    cores = usable_cores()
    before = _core_times()
    time.sleep(sample_s)
    after = _core_times()
    busy = 0
    for cpu in cores:
        if cpu in before and cpu in after:
            work = after[cpu][0] - before[cpu][0]
            total = after[cpu][1] - before[cpu][1]
            busy += total > 0 and work / total > BUSY
    return max(1, len(cores) - busy)


def set_threads(requested: int) -> int:
    """Set PyTorch's intra-op threads (0: ``default_threads()``, unless the environment
    already chose with ``OMP_NUM_THREADS``, which PyTorch follows); returns the count."""
    if not requested and os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    count = requested or default_threads()
    torch.set_num_threads(count)
    return count


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
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in DEVICE_TYPES:
        raise UsageError(f"unknown device {name!r}: use auto, cpu, cuda, cuda:N or mps")
    gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    if device.type == "cuda" and (device.index or 0) >= gpus:
        raise UsageError(f"device {name} asked for, but this machine has {gpus} CUDA GPU(s)")
    return device


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


# Square matmul sizes the peak is taken over: the best of them is the denominator, so
# MFU is never flattered by a size that happens to run below the kernel's best.
PEAK_SIZES = {"cpu": (512, 1024), "cuda": (4096, 8192)}


@functools.cache
def peak_flops(device: torch.device, precision: str, seconds: float = 0.05) -> float:
    """Measured matmul FLOP/s of this device in ``precision`` (fp16 counts as bf16 on
    CPU), the denominator of MFU: the best of a few square matmuls, each repeated for
    about ``seconds``. Measured, not looked up, so it holds on any machine; once per
    process (and per precision)."""
    if device.type == "cpu" and precision == "fp16":
        precision = "bf16"
    dtype = DTYPES[precision]
    # Its own generator: drawing from the global one would shift dropout after a resume.
    gen = torch.Generator(device=device).manual_seed(0)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    best = 0.0
    for n in PEAK_SIZES.get(device.type, (1024,)):
        a = torch.randn(n, n, dtype=dtype, device=device, generator=gen)
        b = torch.randn(n, n, dtype=dtype, device=device, generator=gen)
        a @ b  # warm-up: first-call allocation and kernel selection
        sync()
        reps, start = 0, time.perf_counter()
        while True:
            a @ b
            reps += 1
            if reps % 2 == 0:
                sync()
                if time.perf_counter() - start >= seconds:
                    break
        best = max(best, 2 * n**3 * reps / (time.perf_counter() - start))
    return best


def autocast(device: torch.device, precision: str):
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=DTYPES[precision])
