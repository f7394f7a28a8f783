"""Audit a user's classifier: the probes run on *their* model and data, as studies, in the report format.

    report = limitlab.audit(model, x, y)                  # or: from limitlab.audit import audit
    limitlab audit --model my_pkg.nets:build --weights model.safetensors --data test.npz

Sections (`SECTIONS`), each a registered `Study` of chapter "audit" (`all_studies(audit=True)`): the
pre-flight checks first (`audit-preflight`), then the questions about the model, each `audit-<name>`. A
section that cannot run on the model and data (`Section.missing`: remedies without --train, attribution
without a convolutional layer) is left out and named in the report. Each verdict is a rule over its own
measurements, stated in the section's docstring; "holds" means the limitation is present in this model
(shown as "found"), and "unreliable" that the measurement itself cannot be trusted. The runner runs them
like any study (configs, `--set robustness.pgd_restarts=5`, presets, provenance), given the model and
data through `ctx.subject`. Every probe leaves the model as it found it, and the same seed gives the
same numbers.
"""
from __future__ import annotations

import sys
import tempfile
import types
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

# The sections register in the order they run and are shown in (the pre-flight checks first).
# isort: off
from limitlab.audit import preflight  # noqa: F401
from limitlab.audit import robustness  # noqa: F401
from limitlab.audit import corruption  # noqa: F401
from limitlab.audit import calibration  # noqa: F401
from limitlab.audit import uncertainty  # noqa: F401
from limitlab.audit import ood as _ood  # noqa: F401  (a name apart from audit()'s `ood` option)
from limitlab.audit import attribution  # noqa: F401
from limitlab.audit import slices  # noqa: F401
from limitlab.audit import hardening  # noqa: F401  (the remedies section)
# isort: on
from limitlab.audit.load import load_model
from limitlab.audit.options import Options
from limitlab.audit.outcome import AuditReport
from limitlab.audit.subject import Subject, SubjectSpec, build_subject, load_subject
from limitlab.errors import ConfigError

# the order they run and are shown in
SECTIONS = ("preflight", "robustness", "corruption", "calibration", "uncertainty", "ood", "attribution", "slices",
            "remedies")


def section_ids(sections: Sequence[str] | str | None) -> list[str]:
    """Study ids for the named sections, the pre-flight checks always first."""
    if isinstance(sections, str):  # "robustness,ood", not its characters
        sections = sections.split(",")
    names = list(SECTIONS) if sections is None else [s.strip().removeprefix("audit-") for s in sections if s.strip()]
    unknown = [s for s in names if s not in SECTIONS]
    if unknown or not names:
        raise ConfigError(f"unknown audit section {unknown[0] if unknown else '(none)'!r}; valid sections: "
                          f"{', '.join(SECTIONS)}")
    return [f"audit-{s}" for s in SECTIONS if s in names or s == "preflight"]


def scoped(values: Mapping[str, Any]) -> dict[str, Any]:
    """`robustness.pgd_restarts` -> `audit-robustness.pgd_restarts` (and a `[robustness]` table likewise),
    so overrides name sections as the user knows them; unscoped keys apply to every section that has them."""
    out = {}
    for key, value in values.items():
        scope, dot, name = key.rpartition(".")
        if isinstance(value, dict) and key in SECTIONS:
            key = f"audit-{key}"
        elif dot and scope in SECTIONS:
            key = f"audit-{scope}.{name}"
        out[key] = value
    return out


def plan(subject: Subject | SubjectSpec, *, sections: Sequence[str] | str | None = None, preset: str = "default",
         settings: Mapping[str, Any] | None = None, file_values: Mapping[str, Any] | None = None, seed: int = 0,
         threads: int = 1, cache_dir: Path | None = None, loaded: Subject | None = None):
    """The runner's plan for an audit of `subject` (a loaded Subject in process, or a spec for workers, with
    `loaded` the same subject loaded here). A section that cannot run on it (`Section.missing`) is left out,
    and named with its reason in its `about["not_run"]`; one asked for by name is a ConfigError."""
    from limitlab import runner

    ids = applicable(loaded or subject, section_ids(sections), asked=sections is not None)
    return runner.plan(ids, preset=preset, overrides=scoped(settings or {}),
                       file_values=scoped(file_values or {}), seed=seed, threads=threads, cache_dir=cache_dir,
                       subject=subject)


def applicable(subject: Subject | SubjectSpec, ids: list[str], *, asked: bool) -> list[str]:
    """`ids` without the sections that cannot run on a loaded `subject` (a spec is loaded where it runs)."""
    if not isinstance(subject, Subject):
        return ids
    from limitlab.study import get_study

    why = {sid: get_study(sid).missing(subject) for sid in ids}  # type: ignore[attr-defined]
    skipped = {sid.removeprefix("audit-"): reason for sid, reason in why.items() if reason}
    if skipped and asked:
        name, reason = next(iter(skipped.items()))
        raise ConfigError(f"section {name!r} cannot run on this model and data: {reason}")
    if skipped:
        subject.about["not_run"] = skipped
    return [sid for sid in ids if not why[sid]]


def audit(model: nn.Module, x: Tensor | np.ndarray, y: Tensor | np.ndarray, *,
          bounds: tuple[float, float] | str | Path | None = None, normalize: str | Sequence[float] | None = None,
          sections: Sequence[str] | str | None = None, preset: str = "default", seed: int = 0,
          settings: Mapping[str, Any] | None = None, ood: Any = None, groups: Any = None, train: Any = None,
          layer: str | None = None, max_inputs: int | None = None, batch_size: int = 256,
          device: str | None = None) -> AuditReport:
    """Audit `model` on inputs `x` (N x ...) and integer labels `y` (N,); an AuditReport, one Result per section.

    `bounds`: the inputs' valid range, a pair (lo, hi) or a file of per-feature / per-channel bounds
    (inferred per channel or per feature from x when None, and said so); `normalize`: per-channel
    (means..., stds...) the model expects applied to x, which is given in raw units; `sections`: a
    subset of `SECTIONS` (the pre-flight checks always run); `settings`: overrides like `--set`, e.g.
    {"robustness.pgd_restarts": 8}. `ood`: your own out-of-distribution inputs (an array or a file);
    `groups`: a group id per input (an array or a file); `train`: (x, y) or a file of training data, for
    the remedies that fine-tune; `layer`: the module attribution reads; `max_inputs`: a stratified
    subsample of this size (drawn with `seed`); `batch_size`: inputs per forward pass; `device`: where
    the model runs (default: where its parameters are). Runs in this process; torch's global RNG and
    thread count are left as they were. `.save(dir)` writes the run folder and HTML report.
    """
    from limitlab import runner

    options = Options(ood=ood, groups=groups, train=train, layer=layer, max_inputs=max_inputs, sample_seed=seed,
                      batch_size=batch_size, device=device or "model")
    subject = build_subject(model, x, y, bounds=bounds, normalize=normalize, options=options)
    threads = torch.get_num_threads()
    p = plan(subject, sections=sections, preset=preset, settings=settings, seed=seed, threads=threads)
    for sid, tasks in p.tasks.items():  # figures are drawn when a run folder is written (`.save`), not here
        p.tasks[sid] = [replace(t, figures=False) for t in tasks]
    with torch.random.fork_rng(devices=[]), tempfile.TemporaryDirectory(prefix="limitlab-audit-") as tmp:
        results = runner.run(p, Path(tmp), jobs=1)
    torch.set_num_threads(threads)
    for r in results:
        r.provenance["subject"] = dict(subject.about)
    return AuditReport(results, subject=subject.about, identity=p.identity())


class _CallableModule(types.ModuleType):
    """`limitlab.audit(model, x, y)`: once imported, the package attribute `limitlab.audit` is this
    module (Python sets it), so the module itself forwards calls to `audit`."""

    def __call__(self, *args, **kwargs) -> AuditReport:
        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["SECTIONS", "AuditReport", "Options", "Subject", "SubjectSpec", "audit", "build_subject", "load_model",
           "load_subject", "plan", "section_ids"]
