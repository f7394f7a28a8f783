"""Attribution: which input pixels drive a prediction, and whether a map passes its sanity checks.

Maps: `grad_cam`, `input_gradient`, `gradient_x_input`, `integrated_gradients`. Faithfulness:
`deletion_curve`, `insertion_curve`. Sanity: `cascading_randomization`, `rank_correlation`.
Every function runs the model in eval mode with frozen parameters and restores both afterwards.
"""
from limitlab.attribution.grad_cam import grad_cam
from limitlab.attribution.gradients import gradient_x_input, input_gradient
from limitlab.attribution.integrated_gradients import integrated_gradients
from limitlab.attribution.perturbation import PerturbationCurve, deletion_curve, insertion_curve
from limitlab.attribution.randomization import CascadingRandomization, cascading_randomization, rank_correlation

__all__ = ["CascadingRandomization", "PerturbationCurve", "cascading_randomization", "deletion_curve",
           "grad_cam", "gradient_x_input", "input_gradient", "insertion_curve", "integrated_gradients",
           "rank_correlation"]
