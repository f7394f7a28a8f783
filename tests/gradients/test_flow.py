"""gradient_flow: the ratio and the bound on a linear map by hand; the underflow guard."""
import torch
import torch.nn.functional as F
from torch import nn

from limitlab.gradients.flow import gradient_flow


def test_ratio_of_a_linear_map_by_hand():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, bias=False)).double()
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 0])
    flow = gradient_flow(model, x, y)
    w = model[0].weight.detach()
    g = torch.softmax(x @ w.T, 1) - F.one_hot(y, 4)  # dJ/dlogits per example
    ratio = ((g @ w).norm(dim=1) / g.norm(dim=1)).mean()  # grad_x = W^T g
    assert abs(flow.ratio - float(ratio)) < 1e-12
    bound = g.norm(dim=1) * torch.linalg.matrix_norm(w, 2)  # ||grad_y|| ||W||_op
    assert abs(flow.bound_ratio - float(((g @ w).norm(dim=1) / bound).max())) < 1e-12
    assert flow.unchecked == 0 and len(flow.norms) == 1


def test_examples_whose_gradient_underflows_are_left_out():
    model = nn.Sequential(nn.Linear(2, 2, bias=False)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1e4, 0.0], [0.0, 1.0]], dtype=torch.float64))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)  # the first: logits (1e4, 0), softmax saturated
    flow = gradient_flow(model, x, torch.tensor([0, 1]))
    assert flow.unchecked == 1 and flow.ratio == flow.ratio  # the second example is still measured
    all_out = gradient_flow(model, x[:1], torch.tensor([0]))
    assert all_out.unchecked == 1 and all_out.ratio != all_out.ratio  # none left: NaN, not a number that lies
