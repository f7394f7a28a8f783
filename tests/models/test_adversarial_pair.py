"""The adversarial pair: trained alike but for the examples; the robust one resists PGD better."""
import torch

from limitlab.attacks.pgd import pgd
from limitlab.context import Context
from limitlab.data import digits
from limitlab.models.adversarial import adversarial_pair


def test_the_robust_model_resists_pgd_better_than_its_control():
    robust, standard = adversarial_pair(Context(seed=0), "logreg", eps=0.1, steps=3, step_ratio=2.5, epochs=8)
    x, y = digits().test.x[:200], digits().test.y[:200]
    acc = {}
    for name, model in (("robust", robust), ("standard", standard)):
        adv = pgd(model, x, y, eps=0.1, step_size=0.025, steps=10)
        with torch.no_grad():
            acc[name] = float((model(adv).argmax(1) == y).float().mean())
    assert acc["robust"] > acc["standard"] + 0.1, acc
