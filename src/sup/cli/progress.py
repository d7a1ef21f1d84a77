"""Training progress on stderr: a tqdm bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

from sup.engine.train import Reporter


def _fmt_eval(record: dict) -> str:
    return (
        f"step {record['step']}: loss {record['loss']:.4f}  val_loss {record['val_loss']:.4f}  "
        f"val_bpb {record['val_bpb']:.4f}  {record['tokens_per_s']:,.0f} tok/s  "
        f"MFU {record['mfu']:.1%}  {record['elapsed_s']:.1f}s"
    )


class ConsoleReporter(Reporter):
    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.bar: tqdm | None = None
        self.total = 0
        self.last_line = 0.0

    def _print(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def start(self, step: int, total: int, info: dict) -> None:
        self.total = total
        if self.quiet:
            return
        self._print(
            f"training {info['params'] / 1e6:.2f}M params on {info['device']} "
            f"({info['precision']}, measured peak {info['peak_flops'] / 1e9:,.0f} GFLOP/s), "
            f"steps {step}->{total}"
        )
        if self.tty:
            self.bar = tqdm(total=total, initial=step, file=sys.stderr, unit="step", leave=True)

    def step(self, record: dict) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(record["step"] - self.bar.n)
            self.bar.set_postfix_str(
                f"loss {record['loss']:.4f} | {record['tokens_per_s']:,.0f} tok/s | "
                f"MFU {record['mfu']:.1%}",
                refresh=False,
            )
        elif time.monotonic() - self.last_line > 10:  # plain logs: a line every 10 s
            self.last_line = time.monotonic()
            self._print(
                f"step {record['step']}/{self.total}: loss {record['loss']:.4f}  "
                f"{record['tokens_per_s']:,.0f} tok/s  MFU {record['mfu']:.1%}"
            )

    def eval(self, record: dict) -> None:
        if not self.quiet:
            self._print(_fmt_eval(record))

    def message(self, text: str) -> None:
        self._print(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
