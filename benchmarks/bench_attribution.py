"""Attribution speed, as ratios measured in one run (the machine's speed cancels out).

    .venv/bin/python benchmarks/bench_attribution.py

- integrated gradients (steps=32) / one input gradient: expected near 32 (one gradient per path point);
- integrated gradients batched over the path / one batch per path point: the gain of batching;
- Grad-CAM / input gradient: expected near 1 (one forward and one backward pass each);
- deletion curve batched / one forward per curve point;
- limitlab / Captum for the same maps, when Captum is installed.
"""
from __future__ import annotations

import torch

from limitlab import attribution
from limitlab.models import build
from limitlab.timing import best_time as best_of


def main() -> None:
    torch.manual_seed(0)
    model = build("cnn").eval()
    x = torch.rand(128, 1, 8, 8)
    t = model(x).argmax(1)
    steps = 32
    grad = best_of(lambda: attribution.input_gradient(model, x, target=t))
    ig = best_of(lambda: attribution.integrated_gradients(model, x, target=t, steps=steps))
    ig_loop = best_of(lambda: attribution.integrated_gradients(model, x, target=t, steps=steps,
                                                               internal_batch_size=len(x)))
    cam = best_of(lambda: attribution.grad_cam(model, x, layer="features", target=t))
    amap = attribution.input_gradient(model, x, target=t).abs()
    curve = best_of(lambda: attribution.deletion_curve(model, x, amap, target=t, num_steps=64))
    curve_loop = best_of(lambda: attribution.deletion_curve(model, x, amap, target=t, num_steps=64,
                                                            batch_size=len(x)))
    print(f"threads={torch.get_num_threads()}, batch={len(x)} digits 8x8, zoo CNN")
    print(f"integrated gradients ({steps} steps) / input gradient: {ig / grad:.1f}x")
    print(f"integrated gradients, one batch per path point / batched: {ig_loop / ig:.2f}x")
    print(f"Grad-CAM / input gradient: {cam / grad:.2f}x")
    print(f"deletion curve (64 steps), one forward per step / batched: {curve_loop / curve:.2f}x")
    try:
        from captum.attr import IntegratedGradients, LayerGradCam
    except ImportError:
        print("Captum is not installed: no comparison")
        return
    xg = x.clone().requires_grad_(True)
    c_ig = best_of(lambda: IntegratedGradients(model).attribute(xg, target=t, n_steps=steps, method="riemann_middle"))
    c_cam = best_of(lambda: LayerGradCam(model, model.features).attribute(xg, target=t, relu_attributions=True))
    print(f"integrated gradients, limitlab / Captum: {ig / c_ig:.2f}x")
    print(f"Grad-CAM, limitlab / Captum: {cam / c_cam:.2f}x")


if __name__ == "__main__":
    main()
