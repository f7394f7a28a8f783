"""Sorting: a network trained to sort learns a map that works near its training data, not the algorithm.

Source: 003 ("even learning a sorting algorithm with a deep neural network is tremendously difficult";
a deep net maps one data manifold onto another, an algorithm is exact everywhere). Transformer:
Vaswani et al. 2017, arXiv:1706.03762; learned sorting and its length generalization: Vinyals et al.,
Order matters, ICLR 2016, arXiv:1511.06391.

Protocol: `num_train` sequences of `seq_len` values drawn uniformly from [0, 1]. Each model outputs, for
every element, its fractional rank rank / (n - 1) (mean squared error); a prediction is read as the
nearest integer rank, so no sorting routine ever touches a model's output. Models: an MLP on the whole
sequence (fixed length) and a transformer encoder with no positional encoding (`RankTransformer`, any
length). Test conditions (`num_test` sequences each): the training distribution; values shifted to
[shift, shift + 1]; values scaled to [0, scale]; sequences `long_factor` times longer (transformer only;
the MLP cannot read them). Element accuracy = fraction of elements given their exact rank; exact match =
fraction of sequences with every rank right. The algorithm (NumPy's sort) is the reference; random
guessing gets 1/n of the elements.

Verdict: "near" = every model has element accuracy >= 0.8 on the training distribution; "far" = for every
model, its lowest element accuracy over the other conditions is at least 0.2 below its accuracy on the
training distribution; "algorithm" = the algorithm's exact match is 1.0 in every condition. The claim
holds if all three hold; it fails if "far" does not hold for a model that is "near" (it generalized as an
algorithm would); otherwise (a model did not even learn the training distribution) inconclusive.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from limitlab import figures
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import ArrayDataset
from limitlab.models import TrainConfig, build, fit
from limitlab.models.ranker import RankTransformer
from limitlab.result import Figure, Result, Table, Verdict
from limitlab.study import Study, register

MODELS = ("mlp", "transformer")
LABELS = {"mlp": "MLP", "transformer": "transformer", "algorithm": "algorithm (np.sort)"}


@dataclass(frozen=True)
class SortingConfig:
    seq_len: int = 6
    num_train: int = 8000
    num_test: int = 1000
    epochs: int = 12
    batch_size: int = 128
    mlp_hidden: tuple[int, ...] = (256, 256)
    d_model: int = 32
    num_layers: int = 2
    shift: float = 1.0
    scale: float = 4.0
    long_factor: int = 2

    def __post_init__(self) -> None:
        check(2 <= self.seq_len <= 64, f"seq_len={self.seq_len}; expected 2..64")
        check(self.num_train >= 10 and self.num_test >= 10, "num_train and num_test must be >= 10")
        check(self.epochs >= 1 and self.batch_size >= 1, "epochs and batch_size must be >= 1")
        check(len(self.mlp_hidden) >= 1 and min(self.mlp_hidden) >= 1, f"mlp_hidden={self.mlp_hidden}; expected sizes >= 1")
        check(self.d_model >= 4 and self.d_model % 4 == 0, f"d_model={self.d_model}; expected a multiple of 4 (4 heads)")
        check(self.num_layers >= 1, f"num_layers={self.num_layers}; expected >= 1")
        check(self.shift != 0 and self.scale > 0 and self.scale != 1,
              f"shift={self.shift}, scale={self.scale}; expected shift != 0 and scale > 0, != 1 (else no shift)")
        check(self.long_factor >= 2, f"long_factor={self.long_factor}; expected >= 2")


def ranks(x: np.ndarray) -> np.ndarray:
    """Rank of each element in its row (0 = smallest), by counting smaller elements: no sorting involved."""
    return (x[:, None, :] < x[:, :, None]).sum(-1)


def algorithm_ranks(x: np.ndarray) -> np.ndarray:
    """The algorithm: the position each element would take if the row were sorted (argsort of argsort)."""
    return np.argsort(np.argsort(x, axis=1, kind="stable"), axis=1, kind="stable")


def score(pred_ranks: np.ndarray, true_ranks: np.ndarray) -> tuple[float, float]:
    """(element accuracy, exact-match rate)."""
    hit = pred_ranks == true_ranks
    return float(hit.mean()), float(hit.all(1).mean())


def conditions(cfg: SortingConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The test sets: name -> values (num_test, length)."""
    n, m = cfg.seq_len, cfg.num_test
    return {
        "train distribution": rng.random((m, n)),
        f"shifted +{cfg.shift:g}": rng.random((m, n)) + cfg.shift,
        f"scaled x{cfg.scale:g}": rng.random((m, n)) * cfg.scale,
        f"length x{cfg.long_factor}": rng.random((m, n * cfg.long_factor)),
    }


@torch.no_grad()
def predict_ranks(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """The model's fractional ranks read as integer ranks (nearest, clipped to 0..n-1)."""
    n = x.shape[1]
    out = model.eval()(torch.tensor(x, dtype=torch.float32)).numpy()
    return np.clip(np.rint(out * (n - 1)), 0, n - 1).astype(int)


@register("sorting", chapter="reasoning", sources=("003",))
class Sorting(Study[SortingConfig]):
    """Learned sorting vs the algorithm, in and out of the training distribution. Source: 003."""

    claim = ("A network trained to sort learns a map that works near its training data and fails on longer "
             "sequences or values outside the training range, where the algorithm is always right.")
    Config = SortingConfig
    presets = {
        "tiny": {"seq_len": 4, "num_train": 1500, "num_test": 200, "epochs": 3, "mlp_hidden": (64,), "d_model": 16,
                 "num_layers": 1},
        "full": {"seq_len": 8, "num_train": 50000, "num_test": 5000, "epochs": 40, "d_model": 64, "num_layers": 3},
    }

    def train(self, name: str, ctx: Context) -> nn.Module:
        cfg = self.config
        x = ctx.rng("train").random((cfg.num_train, cfg.seq_len))
        data = ArrayDataset(torch.tensor(x, dtype=torch.float32),
                            torch.tensor(ranks(x) / (cfg.seq_len - 1), dtype=torch.float32), name="sorting")
        if name == "mlp":
            model = build("mlp", in_shape=(cfg.seq_len,), num_classes=cfg.seq_len, hidden=cfg.mlp_hidden)
        else:
            model = RankTransformer(d_model=cfg.d_model, num_layers=cfg.num_layers, dim_ff=2 * cfg.d_model)
        fit(model, data, ctx=ctx, loss_fn=F.mse_loss, description=f"train {name}",
            config=TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=3e-3, patience=None, eval_train=False))
        return model

    def run(self, ctx: Context) -> Result:
        cfg = self.config
        models = {name: self.train(name, ctx) for name in MODELS}
        tests = conditions(cfg, ctx.rng("test"))
        metrics: dict[str, tuple] = {}
        rows = []
        for cond, x in tests.items():
            truth = ranks(x)
            key = cond.split()[0]
            for name in (*MODELS, "algorithm"):
                if name == "mlp" and x.shape[1] != cfg.seq_len:
                    acc, exact = None, None  # a fixed-length MLP cannot read a longer sequence
                else:
                    pred = algorithm_ranks(x) if name == "algorithm" else predict_ranks(models[name], x)
                    acc, exact = score(pred, truth)
                metrics[f"acc_{name}_{key}"] = (acc, "fraction", f"element accuracy of the {LABELS[name]}, {cond}")
                metrics[f"exact_{name}_{key}"] = (exact, "fraction", f"exact-match rate of the {LABELS[name]}, {cond}")
                rows.append([cond, LABELS[name], "—" if acc is None else acc, "—" if exact is None else exact])
        metrics["num_train"] = (cfg.num_train, "sequences", "training sequences each model saw")
        metrics["chance"] = (1 / cfg.seq_len, "fraction", "element accuracy of guessing ranks at random")
        table = Table("Ranks right, per test condition", ["condition", "model", "element accuracy", "exact match"], rows,
                      caption=f"Trained on {cfg.num_train} sequences of {cfg.seq_len} values in [0, 1].")
        return self.result(ctx, metrics=metrics, figures=[self.figure(tests, metrics)], tables=[table])

    def figure(self, tests: Mapping[str, np.ndarray], metrics: Mapping[str, tuple]) -> Figure:
        keys = [c.split()[0] for c in tests]
        names = (*MODELS, "algorithm")
        panels = [figures.bars(list(tests), [{"label": LABELS[n], "values": [metrics[f"{kind}_{n}_{k}"][0] for k in keys]}
                                             for n in names], title=title, ylabel=title, ylim=(0, 1.05))
                  for kind, title in (("acc", "element accuracy"), ("exact", "exact match"))]
        return Figure("accuracy", "Sorting: learned models vs the algorithm", panels, caption=(
            f"Chance element accuracy is {1 / self.config.seq_len:.2f}. No MLP bar for longer sequences: it reads a "
            "fixed number of values."))

    def judge(self, m: Mapping[str, float | None]) -> Verdict:
        keys = ("shifted", "scaled", "length")
        near = {n: m[f"acc_{n}_train"] >= 0.8 for n in MODELS}
        worst = {n: min(v for k in keys if (v := m[f"acc_{n}_{k}"]) is not None) for n in MODELS}
        far = {n: worst[n] <= m[f"acc_{n}_train"] - 0.2 for n in MODELS}
        algorithm = all(m[f"exact_algorithm_{k}"] == 1.0 for k in ("train", *keys))
        text = "; ".join(
            f"{LABELS[n]}: {m[f'acc_{n}_train']:.0%} of ranks right on the training distribution, "
            + ", ".join(f"{k} {m[f'acc_{n}_{k}']:.0%}" for k in keys if m[f"acc_{n}_{k}"] is not None)
            for n in MODELS)
        text += f"; the algorithm: {'100% everywhere' if algorithm else 'not always exact'}"
        if all(near.values()) and all(far.values()) and algorithm:
            return Verdict("holds", text + ".")
        if any(near[n] and not far[n] for n in MODELS):
            return Verdict("fails", text + ". A model that learned the task kept its accuracy away from the training data.")
        failed = [f"near ({n})" for n in MODELS if not near[n]] + ([] if algorithm else ["algorithm"])
        return Verdict("inconclusive", f"{text}. Not shown: {', '.join(failed)}.")
