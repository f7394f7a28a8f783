"""predict_logits / predict: eval-mode outputs in batches, the model left exactly as it was found."""
import pytest
import torch
from torch import nn

from limitlab.models import correct, predict, predict_logits
from tests.helpers import linear_model, small_cnn


def test_outputs_are_the_eval_mode_forward_in_any_batching():
    model = small_cnn(seed=2).train()
    x = torch.rand(10, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = model.eval()(x)
    model.train()
    assert torch.equal(predict_logits(model, x), want)  # one batch: the same call, the same bits
    torch.testing.assert_close(predict_logits(model, x, batch_size=3), want, rtol=1e-6, atol=1e-6)
    assert not predict_logits(model, x).requires_grad


def test_modes_and_requires_grad_flags_are_restored_even_when_forward_raises():
    model = small_cnn(seed=2).train()
    model[1].eval()  # a mixed state: batch norm frozen, the rest training
    model[0].weight.requires_grad_(False)
    before = [(m.training, [p.requires_grad for p in m.parameters(recurse=False)]) for m in model.modules()]
    predict_logits(model, torch.rand(4, 1, 8, 8))

    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    model.append(Boom())
    with pytest.raises(RuntimeError, match="boom"):
        predict_logits(model, torch.rand(4, 1, 8, 8))
    after = [(m.training, [p.requires_grad for p in m.parameters(recurse=False)]) for m in model.modules()][:-1]
    assert after == before


def test_predict_is_the_argmax_and_max_softmax_worked_by_hand():
    model = linear_model(2, 3)
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
        model[1].bias.zero_()
    x = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    pred, conf = predict(model, x)
    # Row 0: logits (2, 0, 0): class 0 with e^2 / (e^2 + 2). Row 1: all equal: class 0 (first max), 1/3.
    e2 = torch.tensor(2.0).exp()
    assert pred.tolist() == [0, 0]
    torch.testing.assert_close(conf, torch.stack([e2 / (e2 + 2), torch.tensor(1 / 3)]))


def test_correct_marks_each_input_whose_top_class_is_its_label_across_batches():
    model = torch.nn.Linear(3, 4)
    with torch.no_grad():
        model.weight.copy_(torch.eye(4, 3))
        model.bias.zero_()
    x = torch.tensor([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 3.0], [-1.0, -1.0, -1.0], [0, 5.0, 0]])  # top classes 0 1 2 3 1
    y = torch.tensor([0, 2, 2, 3, 1])
    hits = correct(model, x, y, batch_size=2)
    assert hits.dtype == torch.float64 and hits.tolist() == [1.0, 0.0, 1.0, 1.0, 1.0]
