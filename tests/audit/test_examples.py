"""The report's examples: the gallery against a brute-force ranking, the adversarial examples figure against
the model's own outputs and a linear model's closed-form gradient, and the sweep unchanged by keeping them."""
import re

import pytest
import torch

from limitlab.audit import audit, build_subject
from limitlab.audit.examples import Gallery
from limitlab.audit.robustness import RobustnessConfig
from limitlab.audit.robustness_views import adversarial_examples, example_eps
from limitlab.audit.sweep import sweep
from limitlab.context import Context
from tests.audit import cases


def test_the_gallery_keeps_the_most_confident_wrong_one_per_input_batch_by_batch():
    g = torch.Generator().manual_seed(0)
    logits, y = 3 * torch.randn(50, 4, generator=g), torch.randint(0, 4, (50,), generator=g)
    eligible = torch.rand(50, generator=g) > 0.3
    one, two = Gallery(5), Gallery(5)
    one.offer(torch.arange(50), logits, y, torch.zeros(50, 2), "a", eligible)
    for i in range(0, 50, 7):
        two.offer(torch.arange(i, min(i + 7, 50)), logits[i:i + 7], y[i:i + 7], torch.zeros(7, 2)[:len(y[i:i + 7])],
                  "a", eligible[i:i + 7])
    conf, pred = torch.softmax(logits.double(), 1).max(1)
    ok = torch.nonzero(eligible & (pred != y)).flatten()
    expected = ok[conf[ok].argsort(descending=True)][:5].tolist()  # brute force
    assert [e.index for e in one.items] == [e.index for e in two.items] == expected
    assert [e.confidence for e in one.items] == pytest.approx(conf[expected].tolist())
    both = Gallery(3)  # the same input under two changes shows once, with its more confident one
    both.offer(torch.tensor([7]), torch.tensor([[0.0, 2.0]]), torch.tensor([0]), torch.zeros(1, 1), "weak",
               torch.tensor([True]))
    both.offer(torch.tensor([7]), torch.tensor([[0.0, 5.0]]), torch.tensor([0]), torch.ones(1, 1), "strong",
               torch.tensor([True]))
    assert [(e.index, e.tag) for e in both.items] == [(7, "strong")]


def test_the_sweep_keeps_pgds_inputs_without_changing_a_flag(mlp):
    x, y = cases.digits_xy("test")
    s = build_subject(mlp, x[:80], y[:80], bounds=(0.0, 1.0))
    cfg = RobustnessConfig(pgd_steps=3, pgd_restarts=2, square_queries=10)
    kept = Gallery(5)
    plain = sweep(s, 0.1, cfg, Context(seed=0), gradient=True, with_square=True)
    keeping = sweep(s, 0.1, cfg, Context(seed=0), gradient=True, with_square=True, keep=kept)
    assert plain.keys() == keeping.keys() and all(torch.equal(plain[a], keeping[a]) for a in plain)
    fooled = (s.logits.argmax(1) == s.y) & ~plain["pgd"]  # right when clean, wrong under PGD
    assert len(kept.items) == min(5, int(fooled.sum())) > 0
    with torch.no_grad():
        for e in kept.items:  # each kept input is one PGD fooled, within the ball, with the model's own answer
            conf, pred = torch.softmax(mlp(e.changed[None]).double(), 1).max(1)
            assert bool(fooled[e.index]) and float((e.changed - s.u[e.index]).abs().max()) <= 0.1 + 1e-6
            assert (int(pred), e.label) == (e.pred, int(s.y[e.index])) and abs(float(conf) - e.confidence) < 1e-6
    assert [e.confidence for e in kept.items] == sorted((e.confidence for e in kept.items), reverse=True)
    assert example_eps((0.03, 0.1, 0.3), 0.1) == 0.1 and example_eps((0.2, 0.3), 0.1) == 0.2


def test_image_examples_show_the_models_own_answers(mlp):
    x, y = cases.digits_xy("test")
    s = build_subject(mlp, x, y, bounds=(0.0, 1.0))
    adv = (s.u + 0.2 * torch.sign(torch.randn(s.u.shape, generator=torch.Generator().manual_seed(1)))).clamp(0, 1)
    (fig,) = adversarial_examples(s, adv, 0.2, k=5)
    original, perturbation, shown = fig.panels
    with torch.no_grad():
        conf, pred = torch.softmax(mlp(adv).double(), 1).max(1)
    ok = torch.nonzero((pred != y) & (s.logits.argmax(1) == y)).flatten()
    top = ok[conf[ok].argsort(descending=True)][:5]
    assert original["captions"] == [f"#{int(i)}: true {int(y[i])}" for i in top]
    assert shown["captions"] == [f"predicted {int(pred[i])} ({float(conf[i]):.2f})" for i in top]
    for k, i in enumerate(top):  # shown to 3 decimals
        picture = torch.tensor(shown["images"][k], dtype=torch.float64)
        torch.testing.assert_close(picture, adv[i, 0].double(), atol=6e-4, rtol=0)
        expected = 0.5 + (adv[i, 0] - s.u[i, 0]).double() / 0.4  # +-eps drawn at 0 and 1
        change = torch.tensor(perturbation["images"][k], dtype=torch.float64)
        torch.testing.assert_close(change, expected, atol=6e-4, rtol=0)
    assert adversarial_examples(s, s.u.clone(), 0.2) == []  # nothing wrong: nothing to show


def test_tabular_examples_rank_features_by_their_closed_form_share_of_the_flip(cancer):
    lin, x, y = cancer
    s = build_subject(lin, x, y)
    sign = torch.sign(torch.randn(s.u.shape, generator=torch.Generator().manual_seed(2)))
    adv = (s.u + 0.3 * sign).clamp(0, 1)
    (fig,) = adversarial_examples(s, adv, 0.3, k=4)
    first = fig.panels[0]
    i, true, pred = map(int, re.match(r"#(\d+): true (\d+), predicted (\d+)", first["title"]).groups())
    w = lin.weight.detach()
    grad = (w[pred] - w[true]) * s.bounds.span  # d(z_pred - z_true) / du for a linear model on lo + u * span
    share = (grad * (adv[i] - s.u[i])).abs()
    assert first["categories"] == [f"x{int(j)}" for j in share.argsort(descending=True)[:8]]
    assert first["groups"][0]["values"] == pytest.approx((adv[i] - s.u[i])[share.argsort(descending=True)[:8]]
                                                         .tolist(), abs=1e-6)
    assert len(fig.panels) == 4 and all(p["kind"] == "bars" for p in fig.panels)


def test_the_robustness_section_shows_the_examples_at_the_rules_eps(mlp):
    x, y = cases.digits_xy("test")
    r = audit(mlp, x, y, preset="tiny", sections="robustness", bounds=(0.0, 1.0))[1]
    assert [f.id for f in r.figures] == ["accuracy-vs-eps", "adversarial-examples"]
    assert r.figures[1].title == "Most confidently wrong adversarial inputs at eps 0.1"
    assert all(c.startswith("predicted ") for c in r.figures[1].panels[2]["captions"])


def test_pictures_are_grey_rgb_or_the_channel_mean_and_large_ones_are_averaged_down():
    from limitlab.audit.examples import picture

    u = torch.rand(3, 5, 4, generator=torch.Generator().manual_seed(3))
    assert picture(u[:1]).shape == (5, 4) and picture(u).shape == (5, 4, 3)
    torch.testing.assert_close(picture(torch.cat([u, u[:1]])), torch.round(torch.cat([u, u[:1]]).mean(0).double()
                                                                            * 1000) / 1000)
    big = torch.rand(3, 200, 100, generator=torch.Generator().manual_seed(4))
    small = picture(big)
    assert small.shape == (64, 32, 3)
    assert float(small.mean()) == pytest.approx(float(big.mean()), abs=2e-3)  # area averaging keeps the mean
