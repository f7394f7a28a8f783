"""What to try next, and why: the cards of the pre-flight, robustness and uncertainty sections (`Study.advise`).

Each card is built from the verdict and the measured numbers, so it names the problem this model has and
the remedy that addresses it: BPDA and EOT (Athalye, Carlini, Wagner. ICML 2018, arXiv:1802.00420) and a
gradient-free attack (Square, Andriushchenko et al. 2020) for an evaluation that gradients cannot be
trusted for; adversarial training (Madry et al. ICLR 2018) for a fragile model, randomized smoothing
(Cohen, Rosenfeld, Kolter. ICML 2019) for a certificate; MC dropout (Gal, Ghahramani. ICML 2016) and
deep ensembles (Lakshminarayanan, Pritzel, Blundell. NeurIPS 2017) for confidence that misses errors.
"""
from __future__ import annotations

from collections.abc import Mapping

from limitlab.audit import masking
from limitlab.audit._common import compare, shown
from limitlab.result import MetricValues, Verdict

DETERMINISM = ("Make the eval-mode forward pass deterministic: put every module in eval mode, drop randomness and "
               "batch statistics at test time (or, if the randomness is the point, attack its expectation with EOT, "
               "Athalye et al. 2018). Until then every other section is a draw, marked unreliable.")
UNRELIABLE = ("Make the eval-mode forward pass deterministic first (see the pre-flight card): until then these numbers "
              "are draws, not properties of the model.")
BPDA = ("attack through it with BPDA (Athalye et al. 2018: the non-differentiable step replaced by the identity or a "
        "smooth approximation in the backward pass only)")

PREFLIGHT = {
    "no input gradient path": "The loss has no gradient with respect to the input (a threshold, argmax, lookup or "
                              f".detach() in the forward pass): gradient attacks cannot run; {BPDA}, and rely on "
                              "the gradient-free Square attack meanwhile.",
    "masked input gradients": "{bad:.0%} of the inputs have a zero or NaN loss gradient: look for rounding or "
                              "quantization, probabilities fed to a log, or sqrt / log at 0 in the forward pass; "
                              f"{BPDA}.",
    "bounds wider than the data": "{narrow:.0%} of the features cover less than a quarter of their bounds with their "
                                  "data, so eps is far larger for them than intended: pass the valid range of each "
                                  "feature (--bounds FILE with per-feature lo, hi).",
    "accuracy no better than the most common label": "The accuracy {acc} is no better than always answering the most "
                                                     "common label ({major:.1%}): check that the labels follow the "
                                                     "model's output order, the preprocessing (--normalize) and the "
                                                     "weights file, before reading any other section.",
}

MASKING = {
    "zero_grad": "zero or NaN gradients: find the step that flattens them (rounding, saturation) and " + BPDA,
    "fgsm_no_effect": "FGSM changes nothing: the gradient at the inputs points nowhere useful; " + BPDA,
    "fgsm_beats_pgd": "one FGSM step beats PGD: PGD does not follow the gradient away from the inputs; run more steps "
                      "and restarts (--set robustness.pgd_steps=40 --set robustness.pgd_restarts=8)",
    "noise_beats_pgd": "random noise beats PGD: the gradient misleads the attack; evaluate with Square (it needs no "
                       "gradient) at a larger budget (--set robustness.square_queries=5000)",
    "square_beats_pgd": "the gradient-free Square attack fools inputs PGD could not: the gradients are masked; quote "
                        "the worst case over both, and give Square more queries (--set robustness.square_queries=5000)",
    "unbounded_pgd_fails": "PGD over the whole input box does not reach 0%: the gradient cannot be followed to another "
                           "class (saturated outputs or obfuscation); " + BPDA,
    "pgd_not_monotone": "PGD accuracy rises with eps: its step (step_ratio * eps / steps) overshoots narrow regions; "
                        "run more steps (--set robustness.pgd_steps=40)",
}


def preflight(verdict: Verdict, m: MetricValues, problems: Mapping[str, bool | None]) -> str:
    if problems.get("random forward pass"):
        return DETERMINISM
    bad = (m["zero_grad_share"] or 0.0) + (m["nan_grad_share"] or 0.0)
    values = {"bad": bad, "narrow": m["narrow_share"] or 0.0, "acc": shown(m, "clean_acc", ".1%"),
              "major": m["majority_share"] or 0.0}
    return " ".join(PREFLIGHT[k].format(**values) for k, v in problems.items() if v and k in PREFLIGHT)


def robustness(verdict: Verdict, m: MetricValues, *, stated: tuple[float, ...], small: float) -> str:
    if verdict.status == "unreliable" and m["nondeterministic_share"]:
        return UNRELIABLE
    if m["gradient_path"] == 0:
        return (f"The loss has no input gradient, so FGSM and PGD could not run; {BPDA}, and give Square a larger "
                "budget (--set robustness.square_queries=5000). Until then the accuracy shown is an upper bound.")
    raised = [MASKING[k] for k in masking.FLAGS if m[f"flag_{k}"]]
    if raised:
        return ("Do not quote this robustness number: it is an upper bound while the gradients are masked. "
                + "; ".join(r[0].upper() + r[1:] for r in raised) + ".")
    at = ", ".join(f"{shown(m, f'acc_eps_{e:g}', '.1%')} at eps {e:g}" for e in stated)
    if verdict.status == "holds":
        return (f"Fragile: the worst-case accuracy halves at eps {shown(m, 'eps_half')} of each value's range ({at}). "
                "The remedy that holds up against adaptive attacks is adversarial training (Madry et al. 2018: train "
                "on PGD examples at the eps you must withstand); give --train FILE and the remedies section measures a "
                "short adversarial fine-tuning on your data. Preprocessing defences (JPEG, denoisers, input "
                "rounding) mostly mask gradients and fall to BPDA; for a guarantee, randomized smoothing (Cohen et al. "
                "2019).")
    if verdict.status == "inconclusive" and compare(m, "clean_acc", m["chance_acc"] or 1.0) is not True:
        return "Fix the clean accuracy first (labels, preprocessing, weights: see the pre-flight card)."
    if verdict.status == "inconclusive" and compare(m, "eps_half", small) is None:
        return (f"The halving eps {shown(m, 'eps_half')} straddles {small:g}: more test inputs narrow its interval "
                "(its width shrinks as 1 / sqrt(n)).")
    if verdict.status == "inconclusive":
        return ("Random sign noise of the same size costs nearly as much accuracy as the attack: the model is fragile "
                "to any change of that size; train with noise and augmentation as well as adversarial examples.")
    return (f"Not fragile at these eps under these attacks ({at}). Before relying on it, run the full preset (40 PGD "
            "steps, 8 restarts, Square with 5000 queries) and an adaptive attack aimed at any defence in the model.")


def uncertainty(verdict: Verdict, m: MetricValues) -> str:
    if verdict.status == "unreliable":
        return UNRELIABLE
    if verdict.status == "inconclusive" and (m["num_wrong"] or 0) < 5:
        return ("Too few wrong predictions to tell whether the confidence knows them: audit on a harder or larger test "
                "set (with --ood FILE for inputs unlike the training data).")
    if verdict.status != "holds":
        return ""
    text = (f"Its max softmax tells wrong predictions from right ones with AUROC {shown(m, 'auroc_max-softmax')} "
            "only, so a confidence threshold will pass many errors.")
    gain = m.metric("mc_gain")
    if gain is not None and gain.interval and gain.interval[0] > 0:
        return (f"{text} MC dropout already does better here (entropy AUROC {shown(m, 'auroc_mc-entropy')}): predict "
                "with the mean over dropout passes and reject on its entropy; deep ensembles (5 models from different "
                "seeds, Lakshminarayanan et al. 2017) usually do better still.")
    if gain is not None:
        return (f"{text} MC dropout did not help measurably (entropy AUROC {shown(m, 'auroc_mc-entropy')}): train a "
                "deep ensemble (5 models from different seeds, Lakshminarayanan et al. 2017) and reject on its "
                "predictive entropy or mutual information.")
    return (f"{text} The model has no dropout to sample: train a deep ensemble (5 models from different seeds, "
            "Lakshminarayanan et al. 2017), or add dropout and use MC dropout (Gal, Ghahramani 2016), and reject on "
            "the predictive entropy; the rejection curve shows what each threshold costs.")


def remedies(verdict: Verdict, m: MetricValues, *, eps: float) -> str:
    if verdict.status == "unreliable":
        return UNRELIABLE
    if m["gradient_path"] == 0:
        return (f"The loss has no input gradient, so PGD can neither fine-tune nor attack: make the path from input "
                f"to loss differentiable (a straight-through estimator for a threshold or rounding) or {BPDA}.")
    steps, change = int(m["steps"] or 0), f"under PGD {shown(m, 'pgd_before', '.1%')} -> {shown(m, 'pgd_after', '.1%')}"
    if verdict.status == "holds":
        return (f"Adversarial training works on this model: {steps} steps at eps {eps:g} raised the accuracy {change} "
                f"(under PGD then Square {shown(m, 'worst_before', '.1%')} -> {shown(m, 'worst_after', '.1%')}), at a "
                f"clean-accuracy change of {shown(m, 'gain_clean', '+.1%')}. Train with it in earnest: PGD examples "
                "in every batch for many more epochs (Madry et al. 2018; this short run is a lower bound on what it "
                "buys), or TRADES (Zhang et al. 2019) to set the trade between clean and robust accuracy; then audit "
                "the trained model again with --preset full.")
    pgd = m.metric("gain_pgd")
    if verdict.status == "fails" and pgd is not None and pgd.interval and pgd.interval[0] > 0:
        return (f"The fine-tuned copy resists PGD better ({change}) but Square takes that back: the fine-tuning "
                "masked the gradients instead of removing the adversarial examples. Train against a stronger attack "
                "(more PGD steps, random starts) and keep evaluating with a gradient-free one.")
    if verdict.status == "fails":
        return (f"{steps} steps of adversarial fine-tuning did not raise the robust accuracy ({change}): give it more "
                "(--set remedies.epochs=30 --set remedies.max_steps=5000), start from a smaller eps and raise it, or "
                "use a larger model (robustness needs capacity, Madry et al. 2018); for a guarantee at small eps, "
                "randomized smoothing (Cohen et al. 2019).")
    if verdict.status == "inconclusive" and m["steps"] is not None:
        return (f"A gain's interval straddles 0 ({change}): a longer fine-tuning (--set remedies.epochs=30) or more "
                "test inputs would decide.")
    return ""
