"""The audit on big test sets: time and peak memory for 500, 2,000 and 8,000 3 x 32 x 32 inputs.

Each size runs in a fresh process (`python bench_audit_scale.py N WEIGHTS`), so its peak resident memory
(the kernel's ru_maxrss) is its own; the model is trained once by the parent and loaded by each child, so
no child's peak includes training. The model is a small CNN trained for a few epochs on synthetic colour
images whose class is the brightest of three colour patterns (it is accurate, so every section has
something to measure); every section at the `tiny` preset (the attacks' cost per input is the same at
any N; `default` only multiplies it). Reported per size: wall time, time per input, the resident memory
before the audit (torch, the model, the data), the peak during it, and what the audit added, beside the
size of the test set itself. The audit shares the caller's float32 x and, when the inputs already lie in
[0, 1] with bounds (0, 1), uses them as the unit box, so what it adds should stay nearly flat in N
(every section works in batches of --batch-size): lazy imports and per-batch autograd buffers.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
from torch import nn

SIZES = (500, 2000, 8000)


def data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Colour noise images; class k has pattern k (a fixed random 3 x 32 x 32 image) added at 0.4."""
    g = torch.Generator().manual_seed(seed)
    patterns = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(1234))
    y = torch.randint(0, 3, (n,), generator=g)
    x = (0.6 * torch.rand(n, 3, 32, 32, generator=g) + 0.4 * patterns[y]).clamp(0, 1)
    return x, y


def model(*, trained: bool = True) -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Dropout(0.2), nn.Linear(512, 3))
    if not trained:
        return net.eval()
    x, y = data(2000, seed=1)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(3):
        for idx in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            F.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    return net.eval()


def one(n: int, weights: str) -> None:
    from limitlab.audit import audit

    torch.set_num_threads(1)
    net = model(trained=False)
    net.load_state_dict(torch.load(weights, weights_only=True))  # trained by the parent: its peak is not ours
    x, y = data(n, seed=2)
    before = _resident()
    start = time.perf_counter()
    report = audit(net, x, y, bounds=(0.0, 1.0), preset="tiny", batch_size=256)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    size = x.numel() * x.element_size() / 2**20
    verdicts = ", ".join(f"{r.study.removeprefix('audit-')} {r.verdict}" for r in report)
    print(f"{n:>6} inputs: {wall:6.1f} s ({1000 * wall / n:.1f} ms/input); resident {before:.0f} MiB before, "
          f"peak {peak:.0f} MiB: the audit added {peak - before:.0f} MiB (the test set itself is {size:.0f} MiB); "
          f"{verdicts}", flush=True)


def _resident() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        weights = f"{tmp}/model.pt"
        torch.save(model().state_dict(), weights)  # trained here once, so no child's peak memory includes training
        for n in SIZES:
            subprocess.run([sys.executable, __file__, str(n), weights], check=True)


if __name__ == "__main__":
    one(int(sys.argv[1]), sys.argv[2]) if sys.argv[1:] else main()
