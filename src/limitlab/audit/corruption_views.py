"""The corruption section's figures, table, evidence phrases and advice."""
from __future__ import annotations

import numpy as np

from limitlab import figures
from limitlab.audit._common import interval, shown
from limitlab.audit.examples import Gallery, feature_bars, image_row, picture
from limitlab.data import common_corruptions as cc
from limitlab.result import Figure, MetricValues, Table, Verdict
from limitlab.stats.binomial import clopper_pearson

REMEDIES = {
    "gaussian-noise": "Gaussian noise augmentation at the failing strengths (Rusak et al., ECCV 2020: noise "
                      "augmentation alone lowers the error on most of ImageNet-C)",
    "blur": "blur augmentation, or AugMix (Hendrycks et al., ICLR 2020: chains of simple augmentations mixed, with a "
            "consistency loss; the usual first step on CIFAR-10-C)",
    "shift": "random translations (pad-and-crop) in training; in a CNN, anti-aliased downsampling (Zhang, ICML "
             "2019), since its strided layers are what make it shift-sensitive",
    "rotation": "random rotations in training; Engstrom et al. (ICML 2019) found that training on the worst of a "
                "few random rotations closes more of the gap than random ones",
    "brightness": "brightness jitter in training, or standardizing each input (per-image mean and std) before the "
                  "model",
    "contrast": "contrast jitter in training, or standardizing each input (per-image mean and std) before the model",
    "jpeg": "JPEG augmentation at qualities 40-80, or training on inputs compressed as in deployment",
    "feature-noise": "noise augmentation of the training features at the failing std, stronger regularization "
                     "(weight decay), and checking which features the model leans on (slices, attribution)",
    "missing-values": "training with random features masked and filled the same way, with missing-indicator "
                      "columns (`limitlab.data.impute.mean_with_indicators`), or a model that takes missing "
                      "values natively (gradient-boosted trees)",
}


def top_severity(m: MetricValues, c: str) -> int:
    return max(int(k.rsplit("_s", 1)[1]) for k in m if k.startswith(f"acc_{c}_s"))


def half_text(m: MetricValues, c: str) -> str:
    """`2.31 [1.90, 2.84]`; `> 5` when the accuracy above chance is still over half at the largest severity
    (censored there), and an interval end `>=5` when some resamples are."""
    top, value, iv = top_severity(m, c), m[f"half_{c}"], interval(m, f"half_{c}")
    clean, chance, last = m["clean_acc"], m["chance_acc"], m[f"acc_{c}_s{top}"]
    censored = None not in (clean, chance, last) and last > chance + (clean - chance) / 2  # type: ignore[operator]
    text = "n/a" if value is None else f"> {top}" if censored else f"{value:.2f}"
    if iv is None or iv[0] >= top:  # no interval, or every resample censored
        return text
    return f"{text} [{iv[0]:.2f}, {f'>={top}' if iv[1] >= top else f'{iv[1]:.2f}'}]"


def curves_figure(grid, acc: dict[str, np.ndarray], m: MetricValues, names, *, n: int, chance: float, level: float,
                  fragile_at: float) -> Figure:
    """Accuracy vs severity per corruption with its Clopper-Pearson band, and ECE vs severity."""
    lines, eces = [], []
    for c in names:
        bands = [clopper_pearson(round(a * n), n, level=level) for a in acc[c]]
        lines.append(figures.series(c, list(grid), acc[c], lo=[b[0] for b in bands], hi=[b[1] for b in bands]))
        eces.append(figures.series(c, list(grid), [m["ece_clean"]] + [m[f"ece_{c}_s{v}"] for v in grid[1:]]))
    half = chance + (acc[names[0]][0] - chance) / 2
    return Figure("accuracy-vs-severity", "Accuracy and calibration vs corruption severity", [
        figures.lines(lines, title="accuracy", xlabel="severity (0 = clean)", ylabel="accuracy", ylim=(0, 1.02),
                      hlines=[{"y": half, "label": "halfway from clean to chance"},
                              {"y": chance, "label": "chance"}],
                      vspans=[{"x0": 0, "x1": fragile_at, "label": f"severity <= {fragile_at:g}"}]),
        figures.lines(eces, title="calibration", xlabel="severity (0 = clean)", ylabel="ECE")],
        caption=f"Each corruption at severities 1-{grid[-1]} (magnitudes in the table below), with the {level:.0%} "
                "Clopper-Pearson band of its accuracy. A line crossing the halfway level inside the shaded range: "
                "a moderate corruption takes half of what the model knows.")


def examples_figure(s, gallery: Gallery, severity: int) -> list[Figure]:
    """The most confidently wrong corrupted inputs (right when clean): original and corrupted, or the changed
    features of a table."""
    items = gallery.items if s.x.dim() == 4 else gallery.items[:6]
    if not items:
        return []
    caption = (f"At severity {severity}, the inputs the model got right clean and wrong corrupted, with the highest "
               "confidence in the wrong class (one corruption per input: its most confident).")
    if s.x.dim() == 4:
        panels = [image_row("original", [picture(s.u[e.index]) for e in items],
                            [f"#{e.index}: true {e.label}" for e in items]),
                  image_row(f"corrupted (severity {severity})", [picture(e.changed) for e in items],
                            [f"{e.tag}: {e.pred} (p {e.confidence:.2f})" for e in items])]
        caption += " Shown in the unit box of the bounds; the caption gives the predicted class and its confidence."
    else:
        panels = [feature_bars(e.changed - s.u[e.index], f"#{e.index} {e.tag}: true {e.label}, predicted {e.pred} "
                                                         f"({e.confidence:.2f})") for e in items]
        caption += " Each panel: the input's most changed features, in units of each feature's range."
    return [Figure("corrupted-examples", "Most confidently wrong corrupted inputs", panels, caption=caption)]


def summary_table(m: MetricValues, names, severities, show: int) -> Table:
    magnitudes = {**cc.IMAGE, **cc.TABLE}
    rows = [[c, f"{', '.join(f'{magnitudes[c][v - 1]:g}' for v in severities)} "
                f"({cc.UNITS[c]})", half_text(m, c), shown(m, f"drop_{c}", ".1%"),
             shown(m, f"acc_{c}_s{show}", ".1%"), shown(m, f"ece_{c}_s{show}")] for c in names]
    return Table("Each corruption", ["corruption", f"magnitude at severities {', '.join(map(str, severities))}",
                                     "halving severity", "mean accuracy drop", f"accuracy at {show}",
                                     f"ECE at {show}"], rows,
                 caption="Halving severity: where the accuracy above chance falls to half its clean value "
                         "(interpolated). Magnitudes are fractions of each channel's or feature's range unless "
                         "the unit says otherwise (limitlab.data.common_corruptions gives their sources).")


def advice(verdict: Verdict, m: MetricValues, *, fragile_at: float) -> str:
    names = [k.removeprefix("half_") for k in m if k.startswith("half_")]
    if verdict.status == "unreliable":
        return "Make the forward pass deterministic first (eval mode, no sampling in forward): until then every " \
               "accuracy here is one draw."
    if verdict.status == "holds":
        bad = [c for c in names if (iv := interval(m, f"half_{c}")) is not None and iv[1] <= fragile_at]
        return ("Fix the corruptions that halve the accuracy first, then re-run this section: " + "; ".join(
            f"{c}: {REMEDIES[c]}" for c in bad) + ". Check the clean accuracy and the other corruptions did not "
            "get worse: augmentation for one corruption can cost another (Yin et al., NeurIPS 2019).")
    drops = {c: float(v) for c in names if (v := m[f"drop_{c}"]) is not None}
    worst = max(drops, key=lambda c: drops[c]) if drops else None
    if verdict.status == "fails":
        return (f"No common corruption here halves the accuracy by severity {fragile_at:g}" + (
            f"; the largest mean drop is under {worst} ({drops[worst]:.1%}): if that matters, {REMEDIES[worst]}"
            if worst else "") + ". These are common corruptions, not every shift: also test the inputs your "
                                "deployment will see (a new sensor, lighting, a compression setting).")
    if m["clean_acc"] is not None and m["chance_acc"] is not None and interval(m, "clean_acc") is not None \
            and interval(m, "clean_acc")[0] <= m["chance_acc"]:  # type: ignore[index]
        return "The clean accuracy is not above chance: check the model, the labels and the preprocessing first."
    return ("Audit more inputs: the intervals shrink as 1/sqrt(N), and with them the straddling halving severities"
            + (f"; meanwhile the largest mean drop is under {worst} ({drops[worst]:.1%})" if worst else "") + ".")
