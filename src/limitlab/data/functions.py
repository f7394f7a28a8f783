"""One-dimensional test functions (with their derivatives) to fit on an interval and extrapolate, a measure of
how straight a fit is outside it, and its picture (a `limitlab.figures` panel).

Xu et al., How neural networks extrapolate: from feedforward to graph neural networks. ICLR 2021,
arXiv:2009.11848: a ReLU MLP fitted on an interval continues as a straight line outside it. The
derivative gives the tangent at the interval's edge, what linear extrapolation from the interval is.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from limitlab import figures
from limitlab.data.arrays import ArrayDataset

Fn = Callable[[np.ndarray | float], np.ndarray | float]  # on arrays, and on numbers (f and f' at the edge)

# name -> (f, f', title)
FUNCTIONS: dict[str, tuple[Fn, Fn, str]] = {
    "sin": (lambda x: np.sin(np.pi * x), lambda x: np.pi * np.cos(np.pi * x), "sin(πx)"),
    "square": (lambda x: x ** 2, lambda x: 2 * x, "x²"),
    "cubic": (lambda x: x ** 3, lambda x: 3 * x ** 2, "x³"),
    "abs": (np.abs, np.sign, "|x|"),
    "tanh": (lambda x: np.tanh(2 * x), lambda x: 2 / np.cosh(2 * x) ** 2, "tanh(2x)"),
    "exp": (np.exp, np.exp, "exp(x)"),
}


def straightness(x: np.ndarray, y: np.ndarray, *, min_var: float = 0.0) -> tuple[float, float]:
    """(R^2, slope) of the least-squares line through (x, y), with y's variance floored at `min_var`: R^2 is 0/0 for
    a flat y, whose tiny bends would otherwise decide it; with the floor a bend counts against that scale (e.g. the
    fitted function's variance where it was trained). R^2 = 1 for a constant y."""
    slope, intercept = np.polyfit(x, y, 1)
    ss_res, ss_tot = np.sum((y - slope * x - intercept) ** 2), max(np.sum((y - y.mean()) ** 2), len(y) * min_var)
    return (1.0 if ss_tot < 1e-12 else float(1 - ss_res / ss_tot)), float(slope)


def rms(x: np.ndarray) -> float:
    """Root mean square of all entries."""
    return float(np.sqrt(np.mean(np.square(x))))


OUTSIDE_FIT_COLUMNS = ("RMSE in", "RMSE out", "R² left", "R² right", "slope left", "f'(-1)", "slope right", "f'(1)")


def outside_fit(x: np.ndarray, fx: np.ndarray, name: str, *, edge: float = 1.0, far: float = 1.5) -> dict[str, float]:
    """How a fit `fx` to FUNCTIONS[name] on [-edge, edge] behaves on the grid `x`: RMSE inside and outside,
    the R^2 and slope of a line through it beyond +-far on each side (`straightness`, the fit's variance floored at
    its variance inside), and the true slope f'(+-edge) (what linear extrapolation from the edge would have), in the
    order of OUTSIDE_FIT_COLUMNS."""
    fn, dfn, _ = FUNCTIONS[name]
    inside, right, left = np.abs(x) <= edge, x >= far, x <= -far
    scale = float(np.var(fx[inside]))
    r2_left, slope_left = straightness(x[left], fx[left], min_var=scale)
    r2_right, slope_right = straightness(x[right], fx[right], min_var=scale)
    return {"rmse_in": rms(fx[inside] - fn(x[inside])), "rmse_out": rms(fx[~inside] - fn(x[~inside])),
            "r2_left": r2_left, "r2_right": r2_right, "slope_left": slope_left, "df_left": float(dfn(-edge)),
            "slope_right": slope_right, "df_right": float(dfn(edge))}


def tangents(x: np.ndarray, name: str, *, edge: float = 1.0) -> np.ndarray:
    """The tangent lines of FUNCTIONS[name] at -edge (for x < 0) and +edge (x >= 0); NaN inside [-edge, edge]."""
    fn, dfn, _ = FUNCTIONS[name]
    line = np.where(x < 0, fn(-edge) + dfn(-edge) * (x + edge), fn(edge) + dfn(edge) * (x - edge))
    return np.where(np.abs(x) <= edge, np.nan, line)


def function_data(names: tuple[str, ...], *, num_points: int = 256, edge: float = 1) -> ArrayDataset:
    """`num_points` evenly spaced x in [-edge, edge], shape (N, 1), and FUNCTIONS[name](x), one column per name."""
    x = np.linspace(-edge, edge, num_points)
    ys = np.stack([FUNCTIONS[f][0](x) for f in names], 1)
    return ArrayDataset(torch.tensor(x[:, None], dtype=torch.float32), torch.tensor(ys, dtype=torch.float32),
                        name="functions-" + "-".join(names), bounds=(-edge, edge))


def fit_panel(x: np.ndarray, fx: np.ndarray, name: str, *, edge: float = 1) -> dict:
    """A `figures.lines` panel: FUNCTIONS[name], its fit `fx` and the tangents at +-edge, the training range shaded."""
    fn, _, title = FUNCTIONS[name]
    return figures.lines([figures.series("true function", x, fn(x), style="line"),
                          figures.series("ReLU MLP fit", x, fx, style="line"),
                          figures.series(f"tangent at ±{edge:g}", x, tangents(x, name, edge=edge), style="line")],
                         title=title, xlabel="x", ylabel="f(x)",
                         ylim=(float(np.min(fn(x))) - 0.5, float(np.max(fn(x))) + 0.5),
                         vspans=[{"x0": -edge, "x1": edge, "label": "training range"}])
