"""The robustness section's figure and table: accuracy per attack over eps, and the counts behind the flags."""
from __future__ import annotations

import numpy as np
from torch import Tensor

from limitlab import figures
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
