"""The checks `tests/test_common.py` runs over the studies, run over the audit sections (they are studies too)."""
import dataclasses

import pytest
import torch

import limitlab
from limitlab import runner
from limitlab.audit import SECTIONS, Options, audit, build_subject, plan
from limitlab.errors import ConfigError
from limitlab.report.figures import render
from limitlab.result import MetricValues, Result, Verdict
from limitlab.study import AUDIT_CHAPTER, all_studies, get_study
from tests.helpers import linear_model

STUDIES = all_studies(audit=True)
IDS = [s.id for s in STUDIES]


def test_the_sections_are_registered_as_audit_studies_in_their_order():
    assert IDS == [f"audit-{s}" for s in SECTIONS]
    assert not set(IDS) & {s.id for s in all_studies()}  # `limitlab run` never runs them
    with pytest.raises(ConfigError, match="audit section: it measures your own model; run it with limitlab audit"):
        runner.plan(["audit-robustness"])


@pytest.mark.parametrize("cls", STUDIES, ids=IDS)
def test_declaration(cls):
    assert cls.chapter == AUDIT_CHAPTER and cls.rule().startswith("Verdict")
    remedy = {"holds": ("helps", "holds"), "fails": ("does not help", "fails")}  # its claim is good news
    assert cls.labels == (remedy if cls.id == "audit-remedies" else {"holds": ("found", "fails"),
                                                                     "fails": ("not found", "holds")})
    assert cls.num_seeds("default") == 1 and "tiny" in cls.presets
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(cls.Config(), dataclasses.fields(cls.Config)[0].name, None)
    with pytest.raises(ConfigError) as err:
        cls.configure(overrides={"no_such_key": "1"})
    assert "no_such_key" in str(err.value) and dataclasses.fields(cls.Config)[0].name in str(err.value)


@pytest.mark.parametrize("cls", STUDIES, ids=IDS)
def test_judge_accepts_metrics_that_were_not_measured(cls):
    verdict = cls().judge(MetricValues({}))
    assert isinstance(verdict, Verdict) and verdict.status != "holds" and verdict.evidence


@pytest.fixture(scope="module")
def small():
    gen = torch.Generator().manual_seed(0)
    model = torch.nn.Sequential(linear_model(6, 3, seed=1), torch.nn.Dropout(0.2))
    x = torch.rand(120, 6, generator=gen)
    with torch.no_grad():
        y = model.eval()(x).argmax(1)
    y[:12] = (y[:12] + 1) % 3
    return model, x, y


def runnable(data, train=None) -> list[str]:
    """The sections that can run on this model and data (`Section.missing`)."""
    subject = build_subject(*data, options=Options(train=train))
    return [sid for sid in IDS if get_study(sid).missing(subject) is None]


@pytest.fixture(scope="module")
def small_images():
    """A seeded conv net on 1 x 4 x 4 images: the sections a table cannot run (e.g. attribution) run on it."""
    gen = torch.Generator().manual_seed(1)
    conv, lin = torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.Linear(3 * 4 * 4, 3)
    with torch.no_grad():
        for p in (*conv.parameters(), *lin.parameters()):
            p.copy_(torch.randn(p.shape, generator=gen))
    model = torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.Flatten(), lin)
    x = torch.rand(120, 1, 4, 4, generator=gen)
    with torch.no_grad():
        y = model(x).argmax(1)
    y[:12] = (y[:12] + 1) % 3
    return model, x, y


def test_every_section_runs_on_the_table_or_on_the_images(small, small_images):
    train = small[1:]  # the remedies need training data
    assert set(runnable(small, train=train)) | set(runnable(small_images)) == set(IDS)


def test_the_sections_only_images_run_are_reproducible_round_trip_render_and_leave_the_model(small, small_images):
    only = [sid.removeprefix("audit-") for sid in runnable(small_images) if sid not in runnable(small)]
    model, x, y = small_images
    before = {k: v.clone() for k, v in model.state_dict().items()}
    first, again = (audit(*small_images, sections=only, preset="tiny", seed=3) for _ in range(2))
    assert [r.study for r in first] == ["audit-preflight", *(f"audit-{s}" for s in only)]
    assert all(r.verdict != "error" for r in first), [r.error for r in first]
    assert [r.to_dict()["metrics"] for r in first] == [r.to_dict()["metrics"] for r in again]
    for r in first:
        assert Result.from_json(r.to_json()).to_dict() == r.to_dict()
        assert all(render(f)[:8] == b"\x89PNG\r\n\x1a\n" for f in r.figures)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()) and model.training
    assert all(p.requires_grad for p in model.parameters())


def test_tiny_runs_are_reproducible_round_trip_and_render(small):
    train = small[1:]  # every section that can run on a table runs (the remedies need training data)
    first, again = audit(*small, preset="tiny", seed=3, train=train), audit(*small, preset="tiny", seed=3, train=train)
    assert [r.study for r in first] == runnable(small, train=train)
    assert all(r.verdict != "error" for r in first), [r.error for r in first]
    assert [{k: m.value for k, m in r.metrics.items()} for r in first] == \
           [{k: m.value for k, m in r.metrics.items()} for r in again]
    for r in first:
        declared = dict(zip(IDS, STUDIES))[r.study].labels
        assert Result.from_json(r.to_json()).to_dict() == r.to_dict() and r.labels["holds"] == list(declared["holds"])
        assert all(render(f)[:8] == b"\x89PNG\r\n\x1a\n" for f in r.figures)
    other = audit(*small, preset="tiny", seed=4, train=train)
    assert other[1].metrics["eps_half"].interval != first[1].metrics["eps_half"].interval  # the seed drives them


def test_settings_work_like_set_and_bad_ones_are_one_line(small):
    subject = build_subject(*small, options=Options(train=small[1:]))
    p = plan(subject, preset="tiny", settings={"robustness.pgd_restarts": "3", "level": "0.9"})
    assert p.studies["audit-robustness"].config.pgd_restarts == 3
    all_of_them = dict.fromkeys(runnable(small, train=small[1:]), 0.9)
    assert {sid: s.config.level for sid, s in p.studies.items()} == all_of_them  # every section has it
    for settings, message in (({"robustness.pgd_restarts": "0"}, "pgd_restarts=0; expected >= 1"),
                              ({"robustness.nope": "1"}, "unknown config key 'nope' for audit-robustness"),
                              ({"robustness.headline_eps": "0.5"}, "expected values of eps_grid")):
        with pytest.raises(ConfigError, match=message):
            plan(subject, settings=settings)
    with pytest.raises(ConfigError, match="unknown audit section 'speed'"):
        plan(subject, sections="robustness,speed")


def test_the_users_torch_state_and_model_are_left_as_they_were(small):
    model, x, y = small
    model.train()
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    (pre, ood) = limitlab.audit(model, x, y, preset="tiny", sections="ood")  # the package is callable
    assert (pre.study, ood.study) == ("audit-preflight", "audit-ood")
    assert torch.equal(torch.rand(3), (torch.manual_seed(123), torch.rand(3))[1])
    assert torch.get_num_threads() == threads and model.training
    assert all(p.requires_grad for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
