"""The probes' half of the bad-input corpus (issue 13): every bad call is one LimitlabError line.

Each case is a plausible mistake. The test asserts the exception is the named LimitlabError subclass
(and the builtin a caller would catch), that its message is one line containing the words that name
what was given and what was expected, and that nothing was left behind: the models' train/eval flags
and `requires_grad` flags, and torch's global random stream, are as they were before the call.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from limitlab import attacks, attribution, calibration, gradients, ood, uncertainty
from limitlab.data.transforms import TransformDistribution
from limitlab.errors import (
    ConfigError,
    ConfigTypeError,
    DataError,
    DataTypeError,
    IncompatibleModelError,
    LimitlabError,
    NotFittedError,
)
from limitlab.models import predict, predict_logits
from tests.helpers import linear_model, small_cnn

NAN, INF = float("nan"), float("inf")


class TupleOut(nn.Module):
    """A model whose forward returns (logits, features), as many pretrained models do."""

    def __init__(self) -> None:
        super().__init__()
        self.net = small_cnn(seed=1)

    def forward(self, x):
        return self.net(x), x


class VectorOut(nn.Module):
    """A model that returns one number per input instead of (N, C) logits."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(64, 1)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.lin(x.flatten(1)))[:, 0]


def env() -> SimpleNamespace:
    """Fresh models and data for one case; models in train mode with one frozen parameter."""
    g = torch.Generator().manual_seed(0)
    cnn = small_cnn(seed=0).train()
    cnn[0].weight.requires_grad_(False)
    nan_model = linear_model(64, 10, seed=2)
    with torch.no_grad():
        nan_model[1].weight[0, 0] = NAN
    x = torch.rand(4, 1, 8, 8, generator=g)
    probs = torch.softmax(torch.randn(4, 3, generator=g), dim=1)
    return SimpleNamespace(
        cnn=cnn, lin=linear_model(4, 3), tuple_out=TupleOut(), vector_out=VectorOut(), nan_model=nan_model,
        x=x, y=torch.tensor([0, 1, 2, 3]), x_nan=x.clone().index_put_((torch.tensor([1]),), torch.tensor(NAN)),
        x_inf=x.clone().index_put_((torch.tensor([0]),), torch.tensor(INF)),
        probs=probs, y3=torch.tensor([0, 2, 1, 1]), mc=torch.softmax(torch.randn(5, 4, 3, generator=g), dim=-1),
        logits=torch.randn(4, 3, generator=g), dist=TransformDistribution(max_rotation=10.0),
        scaler=calibration.TemperatureScaler().fit(torch.randn(20, 3, generator=g), torch.arange(20) % 3),
    )


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[SimpleNamespace], object]
    error: type[LimitlabError]
    words: tuple[str, ...] = field(default_factory=tuple)
    draws: bool = False  # the error shows only in the model's output, after a pass that drew dropout masks


PGD = dict(eps=0.1, step_size=0.02, steps=2)
C = Case
CASES = [
    # ---- attacks ----
    C("pgd-nan-x", lambda e: attacks.pgd(e.cnn, e.x_nan, e.y, **PGD), DataError,
      ("x has 64 NaN or infinite", "expected finite")),
    C("pgd-inf-x", lambda e: attacks.pgd(e.cnn, e.x_inf, e.y, **PGD), DataError,
      ("NaN or infinite", "expected finite")),
    C("pgd-numpy-x", lambda e: attacks.pgd(e.cnn, e.x.numpy(), e.y, **PGD), DataTypeError,
      ("x is a numpy array of shape (4, 1, 8, 8)", "expected a torch.Tensor", "torch.from_numpy(x)")),
    C("pgd-list-x", lambda e: attacks.pgd(e.cnn, e.x.tolist(), e.y, **PGD), DataTypeError,
      ("x is a list", "torch.Tensor")),
    C("pgd-empty-x", lambda e: attacks.pgd(e.cnn, e.x[:0], e.y[:0], **PGD), DataError, ("x is empty", "at least one")),
    C("pgd-unbatched-x", lambda e: attacks.pgd(e.lin, torch.full((4,), 0.5), e.y[:1], **PGD), DataError,
      ("shape (4,)", "expected (N, ...)", "unsqueeze(0)")),
    C("pgd-int-x", lambda e: attacks.pgd(e.cnn, (e.x > 0.5).long(), e.y, **PGD), DataError,
      ("dtype torch.int64", "floating-point", "x.float()")),
    C("pgd-float-y", lambda e: attacks.pgd(e.cnn, e.x, e.y.float(), **PGD), DataError,
      ("dtype torch.float32", "integer class labels")),
    C("pgd-short-y", lambda e: attacks.pgd(e.cnn, e.x, e.y[:3], **PGD), DataError,
      ("y has shape (3,)", "of shape (4,)")),
    C("pgd-numpy-y", lambda e: attacks.pgd(e.cnn, e.x, e.y.numpy(), **PGD), DataTypeError,
      ("y is a numpy array", "integer labels")),
    C("pgd-label-too-big", lambda e: attacks.pgd(e.cnn, e.x, e.y + 7, **PGD), DataError,
      ("labels up to 10", "0..9", "10 classes")),
    C("pgd-negative-label", lambda e: attacks.pgd(e.cnn, e.x, e.y - 1, **PGD), DataError,
      ("labels -1..2", "in 0..C-1")),
    C("pgd-negative-eps", lambda e: attacks.pgd(e.cnn, e.x, e.y, eps=-0.1, step_size=0.1, steps=1), ConfigError,
      ("eps=-0.1", ">= 0")),
    C("pgd-nan-eps", lambda e: attacks.pgd(e.cnn, e.x, e.y, eps=NAN, step_size=0.1, steps=1), ConfigError,
      ("eps=nan", "finite number")),
    C("pgd-str-eps", lambda e: attacks.pgd(e.cnn, e.x, e.y, eps="0.1", step_size=0.1, steps=1), ConfigTypeError,
      ("eps='0.1' (str)", "expected a finite number >= 0")),
    C("pgd-zero-steps", lambda e: attacks.pgd(e.cnn, e.x, e.y, eps=0.1, step_size=0.1, steps=0), ConfigError,
      ("steps=0", "integer >= 1")),
    C("pgd-float-steps", lambda e: attacks.pgd(e.cnn, e.x, e.y, eps=0.1, step_size=0.1, steps=2.5), ConfigTypeError,
      ("steps=2.5 (float)", "integer >= 1")),
    C("pgd-bool-steps", lambda e: attacks.pgd(e.cnn, e.x, e.y, eps=0.1, step_size=0.1, steps=True), ConfigTypeError,
      ("steps=True (bool)", "integer")),
    C("pgd-norm", lambda e: attacks.pgd(e.cnn, e.x, e.y, norm="1", **PGD), ConfigError, ("norm='1'", "inf, 2")),
    C("pgd-reversed-bounds", lambda e: attacks.pgd(e.cnn, e.x, e.y, bounds=(1, 0), **PGD), ConfigError,
      ("bounds=(1, 0)", "low < high")),
    C("pgd-infinite-bounds", lambda e: attacks.pgd(e.cnn, e.x, e.y, bounds=(0, INF), **PGD), ConfigError,
      ("bounds[1]=inf", "finite number")),
    C("pgd-scalar-bounds", lambda e: attacks.pgd(e.cnn, e.x, e.y, bounds=1.0, **PGD), ConfigTypeError,
      ("bounds=1.0", "(low, high)")),
    C("pgd-outside-bounds", lambda e: attacks.pgd(e.cnn, e.x * 255, e.y, **PGD), DataError,
      ("outside bounds=(0.0, 1.0)", "inside the bounds")),
    C("pgd-int-generator", lambda e: attacks.pgd(e.cnn, e.x, e.y, random_start=True, generator=0, **PGD),
      ConfigTypeError, ("generator=0 (int)", "torch.Generator or None", "manual_seed")),
    C("pgd-str-targeted", lambda e: attacks.pgd(e.cnn, e.x, e.y, targeted="yes", **PGD), ConfigTypeError,
      ("targeted='yes'", "True or False")),
    C("pgd-tuple-output", lambda e: attacks.pgd(e.tuple_out, e.x, e.y, **PGD), IncompatibleModelError,
      ("returned a tuple for 4 inputs", "(N, C)")),
    C("pgd-vector-output", lambda e: attacks.pgd(e.vector_out, e.x, e.y, **PGD), IncompatibleModelError,
      ("returned a tensor of shape (4,)", "(N, C) with N = 4")),
    C("pgd-function-model", lambda e: attacks.pgd(lambda t: t.flatten(1), e.x, e.y, **PGD), IncompatibleModelError,
      ("model is a function", "torch.nn.Module")),
    C("pgd-nan-model", lambda e: attacks.pgd(e.nan_model, e.x, e.y, **PGD), IncompatibleModelError,
      ("loss is nan", "expected a finite loss")),
    C("pgd-grad-fn-not-callable", lambda e: attacks.pgd(e.cnn, e.x, e.y, grad_fn="eot", **PGD), ConfigTypeError,
      ("grad_fn is a str", "expected a function")),
    C("pgd-grad-fn-shape", lambda e: attacks.pgd(e.cnn, e.x, e.y, grad_fn=lambda m, v, t: v[0], **PGD), ConfigError,
      ("grad_fn returned a tensor of shape (1, 8, 8)", "x's shape (4, 1, 8, 8)")),
    C("fgsm-nan-x", lambda e: attacks.fgsm(e.cnn, e.x_nan, e.y, eps=0.1), DataError, ("NaN", "expected finite")),
    C("fgsm-numpy-x", lambda e: attacks.fgsm(e.cnn, e.x.numpy(), e.y, eps=0.1), DataTypeError,
      ("numpy array", "torch.Tensor")),
    C("fgsm-negative-eps", lambda e: attacks.fgsm(e.cnn, e.x, e.y, eps=-1), ConfigError, ("eps=-1", ">= 0")),
    C("gradient-step-nan-eta", lambda e: attacks.gradient_step(e.cnn, e.x, e.y, eta=NAN), ConfigError,
      ("eta=nan", "finite")),
    C("gradient-step-int-normalize", lambda e: attacks.gradient_step(e.cnn, e.x, e.y, eta=0.1, normalize=1),
      ConfigTypeError, ("normalize=1", "True or False")),
    C("eot-nan-x", lambda e: attacks.eot_pgd(e.cnn, e.x_nan, e.y, transform=e.dist, samples=2, **PGD), DataError,
      ("NaN", "expected finite")),
    C("eot-zero-samples", lambda e: attacks.eot_pgd(e.cnn, e.x, e.y, transform=e.dist, samples=0, **PGD), ConfigError,
      ("samples=0", "integer >= 1")),
    C("eot-function-transform", lambda e: attacks.eot_pgd(e.cnn, e.x, e.y, transform=lambda t: t, samples=2, **PGD),
      ConfigError, ("transform is a function", "expected a sampler")),
    C("eot-str-generator",
      lambda e: attacks.eot_pgd(e.cnn, e.x, e.y, transform=e.dist, samples=2, generator="0", **PGD),
      ConfigTypeError, ("generator='0'", "torch.Generator")),
    # ---- calibration ----
    C("ece-logits", lambda e: calibration.ece(e.logits, e.y3), DataError,
      ("row sums in", "rows summing to 1", "softmax")),
    C("ece-nan-probs", lambda e: calibration.ece(e.probs.index_fill(0, torch.tensor([0]), NAN), e.y3), DataError,
      ("probs has 3 NaN or infinite", "expected finite")),
    C("ece-numpy-probs", lambda e: calibration.ece(e.probs.numpy(), e.y3), DataTypeError,
      ("probs is a numpy array", "torch.Tensor of shape (N, C)")),
    C("ece-1d-probs", lambda e: calibration.ece(e.probs[:, 0], e.y3), DataError,
      ("probs has shape (4,)", "expected (N, C)")),
    C("ece-empty", lambda e: calibration.ece(e.probs[:0], e.y3[:0]), DataError, ("probs is empty", "at least one")),
    C("ece-label-range", lambda e: calibration.ece(e.probs, e.y3 + 3), DataError, ("labels 3..5", "0..2 (3 classes)")),
    C("ece-zero-bins", lambda e: calibration.ece(e.probs, e.y3, bins=0), ConfigError, ("bins=0", "integer >= 1")),
    C("ece-float-bins", lambda e: calibration.ece(e.probs, e.y3, bins=7.5), ConfigTypeError, ("bins=7.5", "integer")),
    C("mce-float-y", lambda e: calibration.mce(e.probs, e.y3.float()), DataError,
      ("dtype torch.float32", "integer class labels")),
    C("reliability-short-y", lambda e: calibration.reliability(e.probs, e.y3[:2]), DataError,
      ("shape (2,)", "shape (4,)")),
    C("nll-negative", lambda e: calibration.nll(e.probs - 0.1, e.y3), DataError, ("entries in [-", "entries >= 0")),
    C("brier-numpy-y", lambda e: calibration.brier(e.probs, e.y3.numpy()), DataTypeError,
      ("y is a numpy array", "labels")),
    C("ts-nan-logits",
      lambda e: calibration.TemperatureScaler().fit(e.logits.index_fill(1, torch.tensor([1]), NAN), e.y3),
      DataError, ("logits has 4 NaN or infinite", "expected finite")),
    C("ts-empty", lambda e: calibration.TemperatureScaler().fit(e.logits[:0], e.y3[:0]), DataError,
      ("logits is empty", "at least one")),
    C("ts-1d-logits", lambda e: calibration.TemperatureScaler().fit(e.logits[:, 0], e.y3), DataError,
      ("logits has shape (4,)", "expected (N, C) logits")),
    C("ts-label-range", lambda e: calibration.TemperatureScaler().fit(e.logits, e.y3 * 4), DataError,
      ("labels 0..8", "0..2")),
    C("ts-transform-classes", lambda e: e.scaler.transform(torch.zeros(4, 5)), DataError, ("5 classes", "expected 3")),
    C("ts-zero-max-iter", lambda e: calibration.TemperatureScaler(max_iter=0), ConfigError, ("max_iter=0", ">= 1")),
    C("ts-not-fitted", lambda e: calibration.TemperatureScaler().transform(e.logits), NotFittedError,
      ("not fitted", "call fit")),
    # ---- uncertainty ----
    C("mc-nan-x", lambda e: uncertainty.mc_dropout(e.cnn, e.x_nan, samples=3), DataError, ("NaN", "expected finite")),
    C("mc-numpy-x", lambda e: uncertainty.mc_dropout(e.cnn, e.x.numpy(), samples=3), DataTypeError,
      ("numpy array", "torch.Tensor")),
    C("mc-zero-samples", lambda e: uncertainty.mc_dropout(e.cnn, e.x, samples=0), ConfigError, ("samples=0", ">= 1")),
    C("mc-int-generator", lambda e: uncertainty.mc_dropout(e.cnn, e.x, samples=3, generator=5), ConfigTypeError,
      ("generator=5", "torch.Generator")),
    C("mc-seed-and-generator", lambda e: uncertainty.mc_dropout(e.cnn, e.x, samples=3, seed=1,
                                                               generator=torch.Generator()), ConfigError,
      ("seed=1 and generator= were both given", "expected one")),
    C("mc-vector-output", lambda e: uncertainty.mc_dropout(e.vector_out, e.x, samples=3), IncompatibleModelError,
      ("shape (12,)", "(N, C)"), draws=True),
    C("mc-no-dropout", lambda e: uncertainty.mc_dropout(e.lin, torch.zeros(2, 4), samples=3), IncompatibleModelError,
      ("no dropout layer", "expected a model with dropout")),
    C("ensemble-one-model", lambda e: uncertainty.ensemble(e.cnn, e.x), ConfigTypeError,
      ("models is a Sequential", "[model]")),
    C("ensemble-empty", lambda e: uncertainty.ensemble([], e.x), ConfigError, ("models is empty", "at least one")),
    C("ensemble-nan-x", lambda e: uncertainty.ensemble([e.cnn], e.x_nan), DataError, ("NaN", "expected finite")),
    C("ensemble-not-a-module", lambda e: uncertainty.ensemble([e.cnn, "cnn.pt"], e.x), IncompatibleModelError,
      ("models[1] is a str", "nn.Module")),
    C("entropy-numpy", lambda e: uncertainty.predictive_entropy(e.mc.numpy()), DataTypeError,
      ("numpy array", "torch.Tensor")),
    C("entropy-logits", lambda e: uncertainty.predictive_entropy(e.logits), DataError, ("row sums", "softmax")),
    C("mi-2d", lambda e: uncertainty.mutual_information(e.probs), DataError,
      ("shape (4, 3)", "expected (samples, N, C)")),
    C("max-softmax-nan", lambda e: uncertainty.max_softmax(e.mc.index_fill(0, torch.tensor([2]), NAN)), DataError,
      ("NaN", "expected finite")),
    C("expected-entropy-empty", lambda e: uncertainty.expected_entropy(e.mc[:, :0]), DataError,
      ("empty", "at least one")),
    # ---- ood ----
    C("auroc-nan", lambda e: ood.auroc([0.1, NAN], [0.5]), DataError, ("score_in has 1 NaN", "expected finite")),
    C("auroc-2d", lambda e: ood.auroc(np.zeros((2, 2)), [0.5]), DataError, ("shape (2, 2)", "1-D")),
    C("auroc-strings", lambda e: ood.auroc(["low", "high"], [0.5]), DataTypeError, ("score_in is a list", "numbers")),
    C("auroc-none", lambda e: ood.auroc(None, [0.5]), DataTypeError, ("score_in is None", "numbers")),
    C("auroc-empty", lambda e: ood.auroc([], [0.5]), DataError, ("shape (0,)", "non-empty")),
    C("fpr-zero-tpr", lambda e: ood.fpr_at_tpr([0.1], [0.5], tpr=0), ConfigError, ("tpr=0", "in (0, 1]")),
    C("fpr-str-tpr", lambda e: ood.fpr_at_tpr([0.1], [0.5], tpr="95%"), ConfigTypeError, ("tpr='95%'", "number")),
    C("aupr-positive", lambda e: ood.aupr([0.1], [0.5], positive="both"), ConfigError,
      ("positive='both'", "'out' or 'in'")),
    C("rejection-soft-correct", lambda e: ood.rejection_curve([0.1, 0.2], [0.5, 1.0]), DataError,
      ("correct has shape (2,) and values", "one flag per input")),
    C("rejection-rate-one", lambda e: ood.rejection_curve([0.1, 0.2], [1, 0], rates=(0.5, 1.0)), ConfigError,
      ("rates[1]=1.0", "in [0, 1)")),
    C("rejection-scalar-rates", lambda e: ood.rejection_curve([0.1, 0.2], [1, 0], rates=0.5), ConfigTypeError,
      ("rates=0.5", "a sequence")),
    # ---- attribution ----
    C("gradcam-nan-x", lambda e: attribution.grad_cam(e.cnn, e.x_nan, layer="2"), DataError,
      ("NaN", "expected finite")),
    C("gradcam-numpy-x", lambda e: attribution.grad_cam(e.cnn, e.x.numpy(), layer="2"), DataTypeError,
      ("numpy array", "torch.Tensor")),
    C("gradcam-layer-name", lambda e: attribution.grad_cam(e.cnn, e.x, layer="conv9"), IncompatibleModelError,
      ("no layer 'conv9'", "valid names")),
    C("gradcam-target-range", lambda e: attribution.grad_cam(e.cnn, e.x, layer="2", target=12), ConfigError,
      ("target ranges over 12..12", "0..9")),
    C("gradcam-float-target", lambda e: attribution.grad_cam(e.cnn, e.x, layer="2", target=e.y.float()), ConfigError,
      ("target=tensor([0., 1., 2., 3.])", "expected None (the predicted class), an int")),
    C("gradcam-str-upsample", lambda e: attribution.grad_cam(e.cnn, e.x, layer="2", upsample="no"), ConfigTypeError,
      ("upsample='no'", "True or False")),
    C("ig-zero-steps", lambda e: attribution.integrated_gradients(e.cnn, e.x, steps=0), ConfigError,
      ("steps=0", ">= 1")),
    C("ig-nan-baseline", lambda e: attribution.integrated_gradients(e.cnn, e.x, baseline=NAN), ConfigError,
      ("baseline=nan", "finite number")),
    C("ig-baseline-shape", lambda e: attribution.integrated_gradients(e.cnn, e.x, baseline=torch.zeros(3)), DataError,
      ("baseline has shape (3,)", "broadcasts to x's shape (4, 1, 8, 8)")),
    C("ig-str-baseline", lambda e: attribution.integrated_gradients(e.cnn, e.x, baseline="blur"), ConfigTypeError,
      ("baseline='blur'", "a number or a tensor")),
    C("ig-method", lambda e: attribution.integrated_gradients(e.cnn, e.x, method="simpson"), ConfigError,
      ("method='simpson'", "midpoint")),
    C("saliency-int-x", lambda e: attribution.input_gradient(e.cnn, (e.x * 10).long()), DataError,
      ("dtype torch.int64", "floating-point")),
    C("saliency-tuple-output", lambda e: attribution.input_gradient(e.tuple_out, e.x), IncompatibleModelError,
      ("returned a tuple", "(N, C)")),
    C("gxi-inf-x", lambda e: attribution.gradient_x_input(e.cnn, e.x_inf), DataError, ("infinite", "expected finite")),
    C("deletion-map-shape", lambda e: attribution.deletion_curve(e.cnn, e.x, torch.ones(4, 64)), DataError,
      ("attribution has shape (4, 64)", "expected x's shape")),
    C("deletion-nan-map", lambda e: attribution.deletion_curve(e.cnn, e.x, e.x_nan), DataError,
      ("NaN", "expected finite")),
    C("deletion-zero-steps", lambda e: attribution.deletion_curve(e.cnn, e.x, e.x, num_steps=0), ConfigError,
      ("num_steps=0", ">= 1")),
    C("insertion-numpy-map", lambda e: attribution.insertion_curve(e.cnn, e.x, e.x.numpy()), DataTypeError,
      ("attribution is a numpy array", "torch.Tensor")),
    C("cascade-explain", lambda e: attribution.cascading_randomization(e.cnn, e.x, "grad_cam"), ConfigTypeError,
      ("explain is a str", "expected a function")),
    C("cascade-layers-str", lambda e: attribution.cascading_randomization(e.cnn, e.x, lambda m, v: v, layers="5"),
      ConfigTypeError, ("layers='5'", "list of layer names")),
    C("cascade-layer-name", lambda e: attribution.cascading_randomization(e.cnn, e.x, lambda m, v: v, layers=["9"]),
      IncompatibleModelError, ("layer '9'", "layers that can be randomized: 5, 1, 0")),
    C("cascade-int-generator", lambda e: attribution.cascading_randomization(e.cnn, e.x, lambda m, v: v, generator=3),
      ConfigTypeError, ("generator=3", "torch.Generator")),
    C("rank-shapes", lambda e: attribution.rank_correlation(e.x, e.x[:2]), DataError,
      ("shapes (4, 1, 8, 8) and (2, 1, 8, 8)", "equal shapes")),
    C("rank-nan", lambda e: attribution.rank_correlation(e.x, e.x_nan), DataError, ("b has 64 NaN", "expected finite")),
    # ---- gradients ----
    C("bound-nan-x", lambda e: gradients.gradient_bound(e.lin, torch.full((2, 4), NAN), e.y[:2]), DataError,
      ("NaN", "expected finite")),
    C("bound-short-y", lambda e: gradients.gradient_bound(e.lin, torch.zeros(3, 4), e.y[:2]), DataError,
      ("y is a tensor of shape (2,)", "3 targets")),
    C("bound-label-range", lambda e: gradients.gradient_bound(e.lin, torch.zeros(2, 4), torch.tensor([0, 7])),
      DataError,
      ("labels 0..7", "0..2 (3 classes)")),
    C("bound-conv", lambda e: gradients.gradient_bound(e.cnn, e.x, e.y), IncompatibleModelError,
      ("no factor for Conv2d", "nn.Sequential of Linear")),
    C("norms-numpy-x", lambda e: gradients.layer_gradient_norms(e.lin, np.zeros((2, 4)), e.y[:2]), DataTypeError,
      ("numpy array", "torch.Tensor")),
    C("norms-str-loss", lambda e: gradients.layer_gradient_norms(e.lin, torch.zeros(2, 4), e.y[:2], loss_fn="mse"),
      ConfigTypeError, ("loss_fn is a str", "F.cross_entropy")),
    C("norms-no-linear",
      lambda e: gradients.layer_gradient_norms(nn.Sequential(nn.Flatten()), torch.zeros(2, 4), e.y[:2]),
      IncompatibleModelError, ("no nn.Linear layer", "expected a model with nn.Linear layers")),
    C("spectral-1d", lambda e: gradients.spectral_norm(torch.ones(3)), DataError,
      ("weight has shape (3,)", "2-D weight")),
    C("spectral-nan", lambda e: gradients.spectral_norm(torch.full((2, 2), NAN)), DataError,
      ("NaN", "expected finite")),
    C("spectral-norms-function", lambda e: gradients.spectral_norms(F.relu), IncompatibleModelError,
      ("model is a function", "nn.Module")),
    C("saved-bytes-exclude", lambda e: gradients.saved_tensor_bytes(exclude=[1, 2]).__enter__(), ConfigTypeError,
      ("exclude holds int", "expected tensors")),
    # ---- prediction ----
    C("predict-numpy", lambda e: predict_logits(e.cnn, e.x.numpy()), DataTypeError, ("numpy array", "torch.Tensor")),
    C("predict-zero-batch", lambda e: predict_logits(e.cnn, e.x, batch_size=0), ConfigError, ("batch_size=0", ">= 1")),
    C("predict-empty", lambda e: predict_logits(e.cnn, e.x[:0]), DataError, ("x is empty", "at least one")),
    C("predict-nan", lambda e: predict(e.cnn, e.x_nan), DataError, ("NaN", "expected finite")),
    C("predict-vector-output", lambda e: predict(e.vector_out, e.x), IncompatibleModelError, ("shape (4,)", "(N, C)")),
]


def test_the_corpus_is_large_and_its_ids_unique():
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


def _state(e: SimpleNamespace) -> list:
    models = [v for v in vars(e).values() if isinstance(v, nn.Module)]
    return [(m.training, [p.requires_grad for p in m.parameters()]) for model in models for m in model.modules()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_call_is_one_clear_line(case: Case):
    e = env()
    before, rng = _state(e), torch.get_rng_state()
    with pytest.raises(LimitlabError) as info:
        case.call(e)
    err = info.value
    assert isinstance(err, case.error), f"{type(err).__name__}: {err}"
    assert isinstance(err, (ValueError, TypeError))  # the builtin a caller would catch
    message = str(err)
    assert "\n" not in message and message.strip() == message
    for word in case.words:
        assert word in message, f"{word!r} not in {message!r}"
    assert _state(e) == before  # modes and requires_grad flags restored
    if not case.draws:
        assert torch.equal(torch.get_rng_state(), rng)  # no random draw happened before the error
