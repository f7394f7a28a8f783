"""step_memory: bytes saved for backward by hand, no NFE without an ODE block, gradients cleared."""
import torch
from torch import nn

from limitlab.gradients.step_memory import step_memory


def test_a_linear_layer_saves_its_input_once_and_counts_no_evaluations():
    model = nn.Sequential(nn.Linear(3, 2))
    x, y = torch.rand(4, 3), torch.tensor([0, 1, 0, 1])
    saved, nfe_f, nfe_b = step_memory(model, x, y)
    # Linear saves its input (4 x 3 float32 = 48 bytes; the weight is a parameter, excluded); cross-entropy
    # its log-softmax output (4 x 2 float32 = 32 bytes, saved twice, one storage), the int64 targets (4 x 8 = 32
    # bytes) and nll_loss's total weight (one float32)
    assert saved == 48 + 32 + 32 + 4
    assert (nfe_f, nfe_b) == (0, 0)
    assert all(p.grad is None for p in model.parameters())
