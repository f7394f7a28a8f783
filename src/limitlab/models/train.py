"""`fit`: the one training loop, with early stopping, a progress bar, and the on-disk model cache.

The cache key is a hash of everything that determines the trained weights: the architecture
(`repr`), the initial weights, the data, the training config, the loss and batch hook (by qualified
name), any sample weights, the caller's extra key, the run seed, limitlab's version and the
training loop's own revision. A second run with the same inputs loads the weights instead of training.
"""
from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import limitlab
from limitlab import _checks
from limitlab._modelstate import frozen
from limitlab.cache import digest
from limitlab.config import check
from limitlab.context import Context
from limitlab.data import ArrayDataset

BatchHook = Callable[[nn.Module, Tensor, Tensor, torch.Generator], tuple[Tensor, Tensor]]
LossFn = Callable[..., Tensor]

# Part of every cache key: bump it when a change to the loop below changes the weights it produces.
TRAINING_REVISION = 3


@dataclass(frozen=True)
class TrainConfig:
    """How to train. `patience=None` turns early stopping off; `target_train_acc` stops once reached.

    `eval_train=False` skips evaluating the whole training set after every epoch (`History.train_loss`
    and `train_acc` stay empty): about a sixth of a small CNN's training time, for callers that never
    read those curves. `target_train_acc` needs them, so it turns the evaluation back on.
    """

    epochs: int = 40
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: Literal["adam", "sgd"] = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    patience: int | None = 8
    target_train_acc: float | None = None
    max_steps: int | None = None
    eval_train: bool = True

    def __post_init__(self) -> None:
        check(self.epochs >= 1, f"epochs={self.epochs}; expected >= 1")
        check(self.batch_size >= 1, f"batch_size={self.batch_size}; expected >= 1")
        check(self.lr > 0, f"lr={self.lr}; expected > 0")
        check(self.optimizer in ("adam", "sgd"), f"optimizer={self.optimizer!r}; expected 'adam' or 'sgd'")


@dataclass
class History:
    """What happened in training (also what the cache returns for a model it already holds)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)  # in eval mode on the whole training set
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    steps: int = 0
    best_epoch: int = 0
    stopped: str = "epochs"  # "epochs" | "early_stop" | "target" | "max_steps"
    seconds: float = 0.0
    cached: bool = False
    # Weights after the epochs asked for in `fit(..., snapshot_epochs=...)`, keyed by epoch (1-based).
    snapshots: dict[int, dict[str, Tensor]] = field(default_factory=dict, repr=False)


def _name(fn: Callable | None) -> str | None:
    # An instance (e.g. a batch hook object) has no __qualname__; its repr holds a memory address.
    if fn is None:
        return None
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"


def predict_logits(model: nn.Module, x: Tensor, *, batch_size: int = 1024) -> Tensor:
    """The model's outputs on `x` in eval mode without autograd, in batches of `batch_size`.

    Runs inside `frozen(model)`: every module's train/eval flag and every parameter's `requires_grad`
    are restored afterwards, even by an exception. `x` may hold integer inputs (token ids).
    """
    _checks.module(model)
    _checks.tensor(x, "x", floating=False)
    _checks.integer("batch_size", batch_size)
    with frozen(model), torch.no_grad():
        return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def predict(model: nn.Module, x: Tensor, *, batch_size: int = 1024) -> tuple[Tensor, Tensor]:
    """(predicted class, its softmax probability) per input, from `predict_logits`."""
    out = _checks.logits(predict_logits(model, x, batch_size=batch_size), len(x))
    conf, pred = torch.softmax(out, dim=1).max(dim=1)
    return pred, conf


def correct(model: nn.Module, x: Tensor, y: Tensor, *, batch_size: int = 1024) -> Tensor:
    """Per input, 1.0 where the model's top class is the label `y` and 0.0 elsewhere (float64, for means and
    paired differences), from `predict_logits`."""
    return (predict_logits(model, x, batch_size=batch_size).argmax(1) == y).double()


def evaluate(model: nn.Module, data: ArrayDataset, *, loss_fn: LossFn = F.cross_entropy,
             batch_size: int = 1024) -> tuple[float, float]:
    """(mean loss, accuracy) in eval mode; the model's mode is restored. Accuracy is NaN for regression."""
    outs = predict_logits(model, data.x, batch_size=batch_size)
    loss = float(loss_fn(outs, data.y))
    acc = float((outs.argmax(1) == data.y).float().mean()) if not data.y.is_floating_point() else float("nan")
    return loss, acc


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    # The fused kernel updates every parameter in one pass: a third of the unfused step's time on CPU.
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)


def fit(
    model: nn.Module, train: ArrayDataset, *, config: TrainConfig, ctx: Context,
    val: ArrayDataset | None = None, loss_fn: LossFn = F.cross_entropy, batch_hook: BatchHook | None = None,
    sample_weight: Tensor | None = None, key: Mapping[str, Any] | None = None, description: str = "train",
    snapshot_epochs: Sequence[int] = (),
) -> History:
    """Train `model` in place (or load it from `ctx.cache`) and return its `History`.

    `batch_hook(model, x, y, generator) -> (x, y)` transforms each batch (augmentation, adversarial
    training); `sample_weight` weighs each training example's loss. Pass named functions: the cache
    tells callables apart by their qualified names, plus whatever `key` adds. `snapshot_epochs` keeps a
    copy of the weights after those epochs in `History.snapshots` (cached too): learning curves of any
    metric without training once per length.
    """
    # What is trained (it seeds the batch order and dropout masks) and, with the code's version, the cache
    # key: a new limitlab version retrains, but draws the same batches, so a seed means the same everywhere.
    trained = digest("fit", repr(model), dict(model.state_dict()), train.digest(),
                     val.digest() if val is not None else None, dataclasses.asdict(config), _name(loss_fn),
                     _name(batch_hook), sample_weight, dict(key or {}), ctx.seed, sorted(snapshot_epochs))
    cache_key = digest(trained, limitlab.__version__, TRAINING_REVISION)
    with ctx.cache.lock(cache_key):  # a parallel worker training the same model: wait, then load it
        history = _load(model, ctx, cache_key)
        if history is not None:
            return history
        # Training draws dropout masks from torch's global generator. Fork it, seeded from the key, so the
        # global stream is the same after `fit` whether it trained or loaded from the cache: otherwise a
        # cached second run would initialize every later model differently.
        with ctx.seeded_torch("fit-dropout", trained):
            history = _train(model, train, config, ctx, val, loss_fn, batch_hook, sample_weight,
                             ctx.generator("fit", trained), description, set(snapshot_epochs))
        stored = dict(model.state_dict())
        stored.update({f"@{e}/{k}": v for e, snap in history.snapshots.items() for k, v in snap.items()})
        meta = {k: v for k, v in dataclasses.asdict(history).items() if k != "snapshots"}
        ctx.cache.put(cache_key, stored, meta)
    return history


def _load(model: nn.Module, ctx: Context, cache_key: str) -> History | None:
    """The cached weights and history for `cache_key`, loaded into `model`; None if there are none or
    they do not fit the model (an entry of other shapes is retrained and overwritten, not a crash)."""
    hit = ctx.cache.get(cache_key)
    if hit is None:
        return None
    state, meta = hit
    initial = copy.deepcopy(model.state_dict())
    try:
        model.load_state_dict({k: v for k, v in state.items() if not k.startswith("@")})
        history = History(**meta)
    except (RuntimeError, TypeError):
        model.load_state_dict(initial)
        ctx.cache.miss()
        return None
    model.eval()
    snaps: dict[int, dict[str, Tensor]] = {}
    for k, v in state.items():
        if k.startswith("@"):
            epoch, name = k[1:].split("/", 1)
            snaps.setdefault(int(epoch), {})[name] = v
    return dataclasses.replace(history, cached=True, snapshots=snaps)


def _train(model, train, config, ctx, val, loss_fn, batch_hook, sample_weight, gen, description,
           snapshot_epochs) -> History:
    start = time.perf_counter()
    history = History()
    opt = _optimizer(model, config)
    best_loss, best_state, since_best = float("inf"), None, 0
    n = len(train)
    for epoch in ctx.progress.track(range(config.epochs), description=description):
        model.train()
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, config.batch_size):
            idx = order[i:i + config.batch_size]
            xb, yb = train.x[idx], train.y[idx]
            if batch_hook is not None:
                xb, yb = batch_hook(model, xb, yb, gen)
                model.train()
            losses = loss_fn(model(xb), yb, reduction="none")
            loss = (losses * sample_weight[idx]).sum() / sample_weight[idx].sum() if sample_weight is not None \
                else losses.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            history.steps += 1
            if config.max_steps is not None and history.steps >= config.max_steps:
                break
        if epoch + 1 in snapshot_epochs:
            history.snapshots[epoch + 1] = copy.deepcopy(model.state_dict())
        if config.eval_train or config.target_train_acc is not None:
            tr_loss, tr_acc = evaluate(model, train, loss_fn=loss_fn)
            history.train_loss.append(tr_loss)
            history.train_acc.append(tr_acc)
        if val is not None:
            v_loss, v_acc = evaluate(model, val, loss_fn=loss_fn)
            history.val_loss.append(v_loss)
            history.val_acc.append(v_acc)
            if v_loss < best_loss - 1e-6:
                best_loss, best_state = v_loss, copy.deepcopy(model.state_dict())
                since_best, history.best_epoch = 0, epoch
            else:
                since_best += 1
        if config.target_train_acc is not None and tr_acc >= config.target_train_acc:
            history.stopped = "target"
            break
        if config.max_steps is not None and history.steps >= config.max_steps:
            history.stopped = "max_steps"
            break
        if val is not None and config.patience is not None and since_best > config.patience:
            history.stopped = "early_stop"
            break
    if best_state is not None and config.patience is not None:
        model.load_state_dict(best_state)  # early stopping keeps the best validation weights
    model.eval()
    history.seconds = time.perf_counter() - start
    return history
