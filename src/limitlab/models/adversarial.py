"""Adversarial training and its control: two copies of one model, trained alike except for the examples.

Madry, Makelov, Schmidt, Tsipras, Vladu. Towards deep learning models resistant to adversarial attacks.
ICLR 2018, arXiv:1706.06083: train on the PGD examples of each batch (the inner maximization). To
measure what the adversarial objective costs or buys, the control ("standard") model has the same
architecture, initial weights, optimizer, epochs and batches, and trains on the clean batches.
"""
from __future__ import annotations

from torch import nn

from limitlab.context import Context
from limitlab.data import digits
from limitlab.models.hooks import PGDTraining
from limitlab.models.train import TrainConfig, fit
from limitlab.models.zoo import build


def adversarial_pair(ctx: Context, name: str, *, eps: float, epochs: int, steps: int = 7,
                     step_ratio: float = 1.75) -> tuple[nn.Module, nn.Module]:
    """(robust, standard): zoo model `name` on the digits train split, Adam (lr 1e-3, batches of 64), `epochs`
    epochs without early stopping; the robust one on PGD examples (L-inf eps, random start, `steps` steps of
    step_ratio * eps / steps: by default Madry et al.'s CIFAR-10 training attack, 7 steps of 2 at eps 8). Both
    start from the weights drawn from the stream ("init", name, "adv-pair")."""
    data, out = digits(), []
    for hook in (PGDTraining(eps, steps, step_ratio), None):
        with ctx.seeded_torch("init", name, "adv-pair"):
            model = build(name)
        fit(model, data.train, ctx=ctx, batch_hook=hook, config=TrainConfig(epochs=epochs, patience=None,
                                                                            eval_train=False),
            key={"eps": eps, "steps": steps, "ratio": step_ratio} if hook else {}, description=f"train {name} "
            + ("(adversarial)" if hook else "(standard, the control)"))
        out.append(model)
    return out[0], out[1]
