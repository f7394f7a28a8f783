"""MC dropout: batched replicated passes vs a Python loop of T forward calls, measured in one run.

Prints, for 1, 8 and 360 inputs (the digits test set) and T = 50 passes of the zoo CNN, the time of
a loop of T calls divided by the time of `mc_dropout` (ratio > 1: batching is faster), for several
chunk sizes (rows per forward pass; the last column is one giant batch of T*N rows). The default
`CHUNK_ROWS = 512` in `uncertainty/mc_dropout.py` was picked from this table. Measured 2026-11-22 on
the 2-core CPU shared with other jobs, 1 thread, loop / batched:
  N=1:   x7.8 (128 rows)  x8.9 (256)  x8.4 (512)  x8.8 (1024)  x9.0 (2048)
  N=8:   x2.0 (128)       x2.3 (256)  x2.4 (512)  x2.3 (1024)  x2.3 (2048)  x1.8 (one batch of 400)
  N=360: x0.93-0.99 for 128..2048 rows (one or a few replicas per pass: the loop's work), x0.65 for one
         batch of 18,000 rows: a giant replicated batch is slower than the loop, so passes are chunked.
From 512 rows on the small-N gains level off, and 512 rows of 8x8 digits keep the CNN's activations
(32 x 8 x 8 floats a row, 4 MB a chunk) near the cache.
"""
from __future__ import annotations

import time
from functools import partial

import torch

from limitlab.models import build
from limitlab.uncertainty import mc_dropout
from limitlab.uncertainty.mc_dropout import CHUNK_ROWS

SAMPLES = 50


def ratio(reference, candidate, repeats: int = 7) -> tuple[float, float]:
    """(reference time, reference / candidate), each the best of `repeats`, the two runs interleaved so a
    busy shared machine slows both alike."""
    reference(), candidate()  # warm-up
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for i, fn in enumerate((reference, candidate)):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0], best[0] / best[1]


def loop(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.train()
    with torch.no_grad():
        out = torch.stack([torch.softmax(model(x), dim=-1) for _ in range(SAMPLES)])
    model.eval()
    return out


def main() -> None:
    torch.manual_seed(0)
    model = build("cnn")
    print(f"MC dropout, T={SAMPLES} passes, zoo CNN, torch threads={torch.get_num_threads()}; "
          f"ratio = loop time / batched time (default chunk_rows={CHUNK_ROWS})")
    for n in (1, 8, 360):
        x = torch.rand(n, 1, 8, 8)
        cells = []
        for rows in (128, 256, CHUNK_ROWS, 1024, 2048, SAMPLES * n):
            t_loop, r = ratio(partial(loop, model, x), partial(mc_dropout, model, x, samples=SAMPLES, chunk_rows=rows))
            cells.append(f"chunk {rows}: x{r:.2f}")
        print(f"N={n:4d}  loop {t_loop * 1e3:7.1f} ms  " + "  ".join(cells))


if __name__ == "__main__":
    main()
