"""Input gradient (saliency) and gradient x input.

Simonyan, Vedaldi, Zisserman. Deep inside convolutional networks: visualising image classification
models and saliency maps. ICLR workshop 2014, arXiv:1312.6034: the saliency of input i for class c is
|d y_c / d x_i|, the first-order Taylor weight of x_i in the class score.
Shrikumar, Greenside, Shcherbina, Kundaje. Not just a black box: learning important features through
propagating activation differences. 2016, arXiv:1605.01713: gradient x input, x_i * d y_c / d x_i,
which for a linear model is exactly each input's contribution to the score.

Both return signed values of the shape of x; take `.abs()` for Simonyan's saliency map.
"""
from __future__ import annotations

from torch import Tensor, nn

from limitlab._modelstate import frozen
from limitlab.attribution._common import Target, check_x, resolve_target, score_gradient


def input_gradient(model: nn.Module, x: Tensor, *, target: Target = None) -> Tensor:
    """d y_c / dx for each input, where y_c is the logit of `target` (default: the predicted class)."""
    check_x(x, model)
    with frozen(model):
        return score_gradient(model, x, resolve_target(model, x, target)).detach()


def gradient_x_input(model: nn.Module, x: Tensor, *, target: Target = None) -> Tensor:
    """x * d y_c / dx for each input (Shrikumar et al. 2016)."""
    return x.detach() * input_gradient(model, x, target=target)
