"""The robustness section's figures and table: accuracy per attack over eps, the counts behind the flags, and
the most confidently wrong adversarial inputs."""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from limitlab import figures
from limitlab._modelstate import frozen
from limitlab.audit.examples import Gallery, feature_bars, image_row, picture
from limitlab.audit.subject import outputs_of
from limitlab.result import Figure, Table
from limitlab.stats.binomial import clopper_pearson


def accuracy_figure(grid, hit: dict[str, np.ndarray], worst: np.ndarray, *, level: float, ran: list[bool]) -> Figure:
    """Each attack's accuracy over the grid (without the whole-box point; Square only where it ran, as points),
    and the worst case with its band."""
    g, n = list(grid[:-1]), len(worst)
    lines = [figures.series(a, g, hit[a][:, :-1].mean(0)) for a in hit if a != "square"]
    at = [i for i in range(len(g)) if ran[i] and i > 0]
    lines.append(figures.series("square", [g[i] for i in at], hit["square"][:, at].mean(0),
                                style="points"))
    bands = [clopper_pearson(int(c), n, level=level) for c in worst[:, :-1].sum(0)]
    lines.append(figures.series("worst case", g, worst[:, :-1].mean(0), lo=[b[0] for b in bands],
                                hi=[b[1] for b in bands]))
    tail = (f" Over the whole input box (eps {grid[-1]:g}) PGD leaves {hit['pgd'][:, -1].mean():.1%}." if "pgd" in hit
            else " The loss has no input gradient: FGSM and PGD could not run.")
    return Figure("accuracy-vs-eps", "Accuracy vs perturbation size", [figures.lines(
        lines, xlabel="eps (L-inf, fraction of each feature's range)", ylabel="accuracy", ylim=(0, 1.02),
        hlines=[{"y": float(worst[:, 0].mean()) / 2, "label": "half the clean accuracy"}])],
        caption=f"Each attack, and the worst case over them with its {level:.0%} interval (band); Square (points) "
                f"only at the stated eps, on what PGD left correct.{tail}")


def counts_table(grid, counts: dict[str, list[int]], extra: list[int], n: int, span: Tensor, *, strength: str,
                 ran: list[bool]) -> Table:
    flat = span.flatten()
    unit = f" eps x {float(flat[0]):g} is the change in input units." if bool((flat == flat[0]).all()) else \
        " Each feature's change is eps times its own range."
    rows = [[f"{e:g}", *[f"{counts[a][i]}/{n}" if a != "square" or ran[i] or i == 0 else "-" for a in counts],
             extra[i] if ran[i] else "-"] for i, e in enumerate(grid)]
    return Table("Inputs left correct by each attack", ["eps (fraction of range)", *counts, "fooled by Square only"],
                 rows, caption=f"eps 0 is the clean accuracy; the last row is the whole input box.{unit} "
                               f"{strength}; Square attacks what PGD left correct.")


def example_eps(stated: tuple[float, ...], small: float) -> float:
    """Where the examples are shown: the largest stated eps up to `small` (the rule's eps), else the smallest."""
    return max((e for e in stated if e <= small), default=min(stated))


def example_gallery(s, *, k: int = 8) -> Gallery:
    """Where the sweep keeps the PGD inputs the report shows: `k` images, or at most 6 tables' rows."""
    return Gallery(k if s.x.dim() == 4 else min(k, 6))


def adversarial_examples(s, adv: Tensor | Gallery | None, eps: float, *, k: int = 8) -> list[Figure]:
    """The `k` most confidently wrong PGD inputs at `eps` (right when clean), from the adversarial inputs or from
    the gallery the sweep filled: original, perturbation and adversarial images, or (at most 6) bar panels of
    each input's features that moved its decision most."""
    if adv is None:
        return []
    gallery = adv if isinstance(adv, Gallery) else example_gallery(s, k=k)
    if isinstance(adv, Tensor):
        gallery.offer(torch.arange(len(adv)), outputs_of(s.unit, adv, batch=s.batch_size), s.y, adv, "pgd",
                      s.logits.argmax(1) == s.y)
    items = gallery.items
    if not items:
        return []
    caption = (f"PGD at eps {eps:g} (L-inf, a fraction of each feature's range): of the inputs right when clean, "
               "those it made wrong with the highest confidence in the wrong class.")
    delta = [e.changed - s.u[e.index] for e in items]
    if s.x.dim() == 4:
        panels = [image_row("original", [picture(s.u[e.index]) for e in items],
                            [f"#{e.index}: true {e.label}" for e in items]),
                  image_row(f"perturbation (+-{eps:g} of the range)", [picture(d, offset=0.5, scale=0.5 / eps)
                                                                         for d in delta],
                            [f"mean |Δ| {float(d.abs().mean()):.3f}" for d in delta], cmap="RdBu_r"),
                  image_row("adversarial", [picture(e.changed) for e in items],
                            [f"predicted {e.pred} ({e.confidence:.2f})" for e in items])]
        caption += (" Inputs are shown in the unit box of the bounds; the perturbation at 0.5 +- its size / (2 eps) "
                    "(white: unchanged, red: raised, blue: lowered; in colour, grey is unchanged).")
    else:
        share = margin_gradients(s, items) * torch.stack(delta)
        panels = [feature_bars(d, f"#{e.index}: true {e.label}, predicted {e.pred} ({e.confidence:.2f})",
                               order=share[i].abs()) for i, (e, d) in enumerate(zip(items, delta, strict=True))]
        caption += (" Each panel: the change of the input's features in units of each feature's range, for the "
                    "features with the largest first-order share of the flip (gradient of the wrong-minus-true "
                    "logit at the clean input times the change): L-inf moves almost every feature by eps.")
    return [Figure("adversarial-examples", f"Most confidently wrong adversarial inputs at eps {eps:g}", panels,
                   caption=caption)]


def margin_gradients(s, items) -> Tensor:
    """Per example, the gradient of (wrong logit - true logit) at its clean input, in the unit box."""
    u = torch.stack([s.u[e.index] for e in items]).clone().requires_grad_(True)
    rows = torch.arange(len(items))
    with frozen(s.unit), torch.enable_grad():
        z = s.unit(u)
        margin = z[rows, [e.pred for e in items]] - z[rows, [e.label for e in items]]
        (grad,) = torch.autograd.grad(margin.sum(), u)
    return grad.detach()
