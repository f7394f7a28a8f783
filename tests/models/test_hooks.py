"""Batch hooks: adversarial training returns PGD examples in the ball; augmentation transforms and keeps labels."""
import torch
from torch import nn

from limitlab.data.transforms import TransformDistribution
from limitlab.models.hooks import Augment, PGDTraining
from tests.helpers import small_cnn


def test_adversarial_training_hook_returns_pgd_examples_in_the_ball():
    x, y = torch.rand(8, 1, 8, 8), torch.randint(0, 10, (8,))
    x_adv, y_adv = PGDTraining(0.1, 3, 2.5)(small_cnn(), x, y, torch.Generator().manual_seed(0))
    assert torch.equal(y_adv, y) and (x_adv - x).abs().max() <= 0.1 + 1e-6


def test_augment_hook_transforms_each_batch_and_keeps_labels():
    x, y = torch.rand(6, 1, 8, 8), torch.arange(6)
    xa, ya = Augment(TransformDistribution(max_rotation=30.0))(nn.Identity(), x, y, torch.Generator().manual_seed(0))
    assert torch.equal(ya, y) and xa.shape == x.shape and not torch.equal(xa, x)
