"""Sorting: a network trained to sort learns a map that works near its training data, not the algorithm.

Source: 003 ("even learning a sorting algorithm with a deep neural network is tremendously difficult"; a deep net
maps one data manifold onto another, an algorithm is exact everywhere). Transformer: Vaswani et al. 2017,
arXiv:1706.03762; learned sorting and its length generalization: Vinyals et al., Order matters, ICLR 2016,
arXiv:1511.06391.

Protocol: `num_train` sequences of `seq_len` values drawn uniformly from [0, 1]. Each model outputs, for every element,
its fractional rank rank / (n - 1) (mean squared error); a prediction is read as the nearest integer rank, so no sorting
routine ever touches a model's output. Models, each initialized from its own stream: an MLP on the whole sequence (fixed
length) and a transformer encoder with no positional encoding (`RankTransformer`, any length). Each trains until it has
learned the training distribution: until its loss on `num_val` fresh sequences from it stops falling (`patience` epochs
without a new best; the best epoch is kept), capped at `mlp_epochs` / `transformer_epochs` (the MLP learns slowly but
cheaply; the transformer converges within its cap and later epochs bring loss spikes). Test conditions (`num_test`
sequences each): the training distribution; values shifted to [shift, shift + 1]; values scaled to [0, scale]; sequences
`long_factor` times longer (transformer only; the MLP cannot read them). Element accuracy = fraction of elements given
their exact rank, with two standard errors over test sequences as noise floor; exact match = fraction of sequences with
every rank right. The algorithm (NumPy's sort) is the reference; random guessing gets 1/n of the elements.

Verdict: "near" = every model's element accuracy on the training distribution is >= 0.8 by more than its noise floor;
"far" = for every model, its lowest element accuracy over the other conditions is at least 0.2 below its accuracy on the
training distribution, by more than their combined floors (less than 0.2 below by more than that: it does not hold;
within the noise: not shown); "algorithm" = the algorithm's exact match is 1.0 in every condition. The claim holds if
all three hold; it fails if "far" does not hold for a model that is "near" (it generalized as an algorithm would);
otherwise (a model did not even learn the training distribution) inconclusive.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from limitlab import figures
from limitlab.config import Checked, Each, Interval, check
from limitlab.context import Context
from limitlab.data import ArrayDataset
from limitlab.figures import Figure  # its re-export: with the names below, the line would pass 120 columns
from limitlab.models import TrainConfig, build, fit, predict_logits
from limitlab.models.ranker import RankTransformer
from limitlab.result import Metrics, MetricValues, Result, Table, Verdict, at_least, decided, every, fmt
from limitlab.studies._rules import values_noise
from limitlab.study import Study, register

MODELS = ("mlp", "transformer")
LABELS = {"mlp": "MLP", "transformer": "transformer", "algorithm": "algorithm (np.sort)"}


@dataclass(frozen=True)
class SortingConfig(Checked):
    constraints: ClassVar = {
        "seq_len": Interval(2, 64), "num_train": Interval(10), "num_val": Interval(10), "num_test": Interval(10),
        "mlp_epochs": Interval(1), "transformer_epochs": Interval(1), "patience": Interval(1),
        "batch_size": Interval(1), "mlp_hidden": Each(Interval(1), min_len=1), "d_model": Interval(4),
        "num_layers": Interval(1), "scale": Interval(0, closed="neither"), "long_factor": Interval(2)}
    seq_len: int = 6
    num_train: int = 8000
    num_val: int = 1000  # fresh training-distribution sequences that tell when a model has converged
    num_test: int = 1000
    mlp_epochs: int = 30  # caps on training; each model stops earlier when its validation loss plateaus
    transformer_epochs: int = 12
    patience: int = 3
    batch_size: int = 128
    mlp_hidden: tuple[int, ...] = (256, 256)
    d_model: int = 32
    num_layers: int = 2
    shift: float = 1.0
    scale: float = 4.0
    long_factor: int = 2

    def validate(self) -> None:
        check(self.d_model % 4 == 0, f"d_model={self.d_model}; expected a multiple of 4 (4 heads)")
        check(self.shift != 0, f"shift={self.shift}; expected shift != 0 (else the values are not shifted)")
        check(self.scale != 1, f"scale={self.scale}; expected scale != 1 (else the values are not scaled)")


def ranks(x: np.ndarray) -> np.ndarray:
    """Rank of each element in its row (0 = smallest), by counting smaller elements: no sorting involved."""
    return (x[:, None, :] < x[:, :, None]).sum(-1)


def algorithm_ranks(x: np.ndarray) -> np.ndarray:
    """The algorithm: the position each element would take if the row were sorted (argsort of argsort)."""
    return np.argsort(np.argsort(x, axis=1, kind="stable"), axis=1, kind="stable")


def rank_data(x: np.ndarray, *, name: str) -> ArrayDataset:
    """Sequences x (N, n) and each element's fractional rank rank / (n - 1): the regression target."""
    return ArrayDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(ranks(x) / (x.shape[1] - 1),
                                                                            dtype=torch.float32), name=name)


def score(pred_ranks: np.ndarray, true_ranks: np.ndarray) -> tuple[float, float, float | None]:
    """(element accuracy, exact-match rate, the element accuracy's noise floor: two standard errors over sequences)."""
    hit = pred_ranks == true_ranks
    return float(hit.mean()), float(hit.all(1).mean()), values_noise(hit.mean(1).tolist())


def conditions(cfg: SortingConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The test sets: name -> values (num_test, length)."""
    n, m = cfg.seq_len, cfg.num_test
    return {"train distribution": rng.random((m, n)), f"shifted +{cfg.shift:g}": rng.random((m, n)) + cfg.shift,
            f"scaled x{cfg.scale:g}": rng.random((m, n)) * cfg.scale,
            f"length x{cfg.long_factor}": rng.random((m, n * cfg.long_factor))}


def predict_ranks(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """The model's fractional ranks read as integer ranks (nearest, clipped to 0..n-1)."""
    n = x.shape[1]
    out = predict_logits(model, torch.tensor(x, dtype=torch.float32)).numpy()
    return np.clip(np.rint(out * (n - 1)), 0, n - 1).astype(int)


@register("sorting", chapter="reasoning", sources=("003",))
class Sorting(Study[SortingConfig]):
    """Learned sorting vs the algorithm, in and out of the training distribution. Source: 003."""

    claim = ("A network trained to sort learns a map that works near its training data and fails on longer "
             "sequences or values outside the training range, where the algorithm is always right.")
    Config = SortingConfig
    presets = {"tiny": {"seq_len": 4, "num_train": 1500, "num_val": 200, "num_test": 200, "mlp_epochs": 3,
                        "transformer_epochs": 3, "mlp_hidden": (64,), "d_model": 16, "num_layers": 1},
               "full": {"seq_len": 8, "num_train": 50000, "num_test": 5000, "mlp_epochs": 100, "transformer_epochs": 40,
                        "d_model": 64, "num_layers": 3}}

    def train(self, name: str, ctx: Context) -> tuple[nn.Module, int]:
        """The model trained until its validation loss plateaus (or its cap), and the epochs it trained."""
        cfg = self.config
        data, val = (rank_data(ctx.rng(split).random((n, cfg.seq_len)), name=f"sorting-{split}")
                     for split, n in (("train", cfg.num_train), ("val", cfg.num_val)))
        with ctx.seeded_torch("init", name):  # each model's initial weights from its own stream
            if name == "mlp":
                model = build("mlp", in_shape=(cfg.seq_len,), num_classes=cfg.seq_len, hidden=cfg.mlp_hidden)
            else:
                model = RankTransformer(d_model=cfg.d_model, num_layers=cfg.num_layers, dim_ff=2 * cfg.d_model)
        hist = fit(model, data, val=val, ctx=ctx, loss_fn=F.mse_loss, description=f"train {name}", config=TrainConfig(
            epochs=getattr(cfg, f"{name}_epochs"), batch_size=cfg.batch_size, lr=3e-3, patience=cfg.patience,
            eval_train=False))
        return model, len(hist.val_loss)

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        trained = {name: self.train(name, ctx) for name in MODELS}  # name -> (model, epochs trained)
        tests, m, rows = conditions(cfg, ctx.rng("test")), Metrics(), []
        for cond, x in tests.items():
            truth = ranks(x)
            key = cond.split()[0]
            for name in (*MODELS, "algorithm"):
                if name == "mlp" and x.shape[1] != cfg.seq_len:
                    acc, exact, se = None, None, None  # a fixed-length MLP cannot read a longer sequence
                else:
                    pred = algorithm_ranks(x) if name == "algorithm" else predict_ranks(trained[name][0], x)
                    acc, exact, se = score(pred, truth)
                m.add(f"acc_{name}_{key}", acc, "fraction", f"element accuracy of the {LABELS[name]}, {cond}", noise=se)
                m.add(f"exact_{name}_{key}", exact, "fraction", f"exact-match rate of the {LABELS[name]}, {cond}")
                rows.append([cond, LABELS[name], "—" if acc is None else acc, "—" if exact is None else exact])
        m.add("num_train", cfg.num_train, "sequences", "training sequences each model saw")
        for name, (_, epochs) in trained.items():
            m.add(f"epochs_{name}", epochs, "epochs", f"epochs the {LABELS[name]} trained (its validation loss plateau "
                  "or its cap)")
        m.add("chance", 1 / cfg.seq_len, "fraction", "element accuracy of guessing ranks at random")
        table = Table("Ranks right, per test condition", ["condition", "model", "element accuracy", "exact match"],
                      rows, caption=f"Trained on {cfg.num_train} sequences of {cfg.seq_len} values in [0, 1].")
        return self.result(ctx, metrics=m, figures=[self.figure(tests, m)], tables=[table])

    def figure(self, tests: Mapping[str, np.ndarray], m: Metrics) -> Figure:
        keys, names = [c.split()[0] for c in tests], (*MODELS, "algorithm")
        panels = [figures.bars(list(tests), [{"label": LABELS[n], "values": [m[f"{kind}_{n}_{k}"].value for k in keys]}
                                             for n in names], title=title, ylabel=title, ylim=(0, 1.05))
                  for kind, title in (("acc", "element accuracy"), ("exact", "exact match"))]
        return Figure("accuracy", "Sorting: learned models vs the algorithm", panels, caption=(
            f"Chance element accuracy is {1 / self.config.seq_len:.2f}. No MLP bar for longer sequences: it reads a "
            "fixed number of values."))

    def judge(self, m: MetricValues) -> Verdict:
        keys = ("shifted", "scaled", "length")
        se: dict[str | None, float] = {name: getattr(m.metric(name), "noise", None) or 0.0 for name in m}
        acc = {name: v for name in m if (v := m[name]) is not None}  # the measured values
        near = {n: decided(m[f"acc_{n}_train"], 0.8, noise=se.get(f"acc_{n}_train")) for n in MODELS}
        worst = {n: min((f"acc_{n}_{k}" for k in keys if f"acc_{n}_{k}" in acc), key=lambda k: acc[k], default=None)
                 for n in MODELS}
        far = {n: decided(m[w] if w else None, None if (t := m[f"acc_{n}_train"]) is None else t - 0.2,
                          noise=math.hypot(se.get(w, 0.0), se.get(f"acc_{n}_train", 0.0)), above=False)
               for n, w in worst.items()}
        algorithm = every(at_least(m[f"exact_algorithm_{k}"], 1.0) for k in ("train", *keys))
        text = "; ".join(
            f"{LABELS[n]}: {fmt(m[f'acc_{n}_train'], '.0%')} of ranks right on the training distribution (after "
            f"{fmt(m[f'epochs_{n}'], '.0f')} epochs), "
            + ", ".join(f"{k} {m[f'acc_{n}_{k}']:.0%}" for k in keys if m[f"acc_{n}_{k}"] is not None) for n in MODELS)
        text += "; the algorithm: " + {True: "100% everywhere", None: "not measured"}.get(algorithm, "not always exact")
        parts = {**{f"near ({n})": near[n] for n in MODELS}, "algorithm": algorithm,  # a model that did not learn
                 **{f"far ({n})": far[n] if near[n] else True for n in MODELS}}  # the task says nothing far from it
        return Verdict.combine(parts, text, decisive=[f"far ({n})" for n in MODELS], missing={
            f"far ({n})": f"The {LABELS[n]} learned the task and kept its accuracy away from the training data."
            if far[n] is False else f"Not shown: far ({n}), within the noise." for n in MODELS})
