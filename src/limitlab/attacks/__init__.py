"""Adversarial attacks: functions of (model, x, y) with keyword-only options, returning x_adv.

Every attack runs the model in eval mode with frozen parameters and restores both afterwards.
"""
from limitlab.attacks.eot_pgd import eot_pgd
from limitlab.attacks.fgsm import fgsm
from limitlab.attacks.gradient_step import gradient_step
from limitlab.attacks.pgd import pgd

__all__ = ["eot_pgd", "fgsm", "gradient_step", "pgd"]
