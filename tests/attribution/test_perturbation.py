"""Deletion and insertion curves on a model whose answer is known in closed form."""
import pytest
import torch
from torch import nn

from limitlab.attribution import deletion_curve, insertion_curve
from limitlab.errors import DataError


class Linear2(nn.Module):
    """Two classes, logits (w . x, 0): p(class 0) = sigmoid(w . x). Each pixel contributes w_i x_i."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        z = x.flatten(1) @ self.w
        return torch.stack([z, torch.zeros_like(z)], dim=1)


def case(n=6, pixels=12):
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(pixels, generator=gen)
    x = torch.rand(n, 1, 3, 4, generator=gen)
    return Linear2(w), w, x, gen


def expected_scores(w, x, order_scores, fractions, *, insert):
    """Closed form: sigmoid of the contributions still present, ordering pixels with plain Python sorting."""
    contrib = (w * x.flatten(1))
    out = []
    for n in range(len(x)):
        order = sorted(range(len(w)), key=lambda i: -float(order_scores[n].flatten()[i]))
        row = []
        for f in fractions.tolist():
            first = set(order[:round(f * len(w))])
            present = [i for i in range(len(w)) if (i in first) == insert]
            row.append(torch.sigmoid(contrib[n, present].sum()))
        out.append(torch.stack(row))
    return torch.stack(out)


@pytest.mark.parametrize("insert", [False, True])
def test_scores_match_the_closed_form(insert):
    model, w, x, gen = case()
    attribution = torch.randn(x.shape, generator=gen)
    curve = (insertion_curve if insert else deletion_curve)(model, x, attribution, target=0, num_steps=5)
    assert torch.allclose(curve.fractions, torch.tensor([0, 2, 5, 7, 10, 12]) / 12)  # round(12 k / 5)
    assert torch.allclose(curve.scores, expected_scores(w, x, attribution, curve.fractions, insert=insert), atol=1e-6)
    assert torch.allclose(curve.auc, torch.trapezoid(curve.scores, curve.fractions, dim=1))


def test_endpoints():
    model, w, x, gen = case()
    curve = deletion_curve(model, x, torch.randn(x.shape, generator=gen), target=0, num_steps=4)
    assert torch.allclose(curve.scores[:, 0], torch.sigmoid(x.flatten(1) @ w))
    assert torch.allclose(curve.scores[:, -1], torch.full((len(x),), 0.5))  # everything at the baseline 0


def test_oracle_ordering_beats_random_orderings():
    # Removing the largest contributions w_i x_i first leaves the smallest possible sum after every
    # step, so the oracle's deletion curve is below any other ordering's (and its insertion curve above).
    model, w, x, gen = case(n=20)
    oracle = w * x.flatten(1)
    oracle = oracle.view(x.shape)
    dele = deletion_curve(model, x, oracle, target=0, num_steps=12)
    ins = insertion_curve(model, x, oracle, target=0, num_steps=12)
    for _ in range(5):
        random_map = torch.rand(x.shape, generator=gen)
        rd = deletion_curve(model, x, random_map, target=0, num_steps=12)
        ri = insertion_curve(model, x, random_map, target=0, num_steps=12)
        assert (dele.scores <= rd.scores + 1e-6).all() and (ins.scores >= ri.scores - 1e-6).all()
        assert dele.auc.mean() < rd.auc.mean() - 0.02 and ins.auc.mean() > ri.auc.mean() + 0.02


def test_a_map_without_channels_moves_whole_pixels():
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 2 * 2, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.stack([torch.ones(8), torch.zeros(8)]))
        model[1].bias.zero_()
    x = torch.ones(1, 2, 2, 2)  # logit 0 = number of (channel, pixel) entries still at 1
    pixel_map = torch.tensor([[[4.0, 3.0], [2.0, 1.0]]])
    curve = deletion_curve(model, x, pixel_map, target=0, num_steps=4)
    assert torch.allclose(curve.scores[0], torch.sigmoid(torch.tensor([8.0, 6, 4, 2, 0])), atol=1e-6)


def test_bad_attribution_shape_and_values():
    model, w, x, gen = case()
    with pytest.raises(DataError, match="attribution has shape \\(6, 12\\)"):
        deletion_curve(model, x, torch.rand(6, 12))
    with pytest.raises(DataError, match="NaN"):
        deletion_curve(model, x, torch.full(x.shape, float("nan")))
