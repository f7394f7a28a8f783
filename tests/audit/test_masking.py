"""The masking symptoms from attack counts, worked by hand: each attack is compared with PGD on its own."""
from limitlab.audit.masking import flags, margin

CLEAN = 349  # of n = 360 inputs; grid: clean, 0.03, 0.1, 0.3, the whole box


def counts(*, pgd, square, fgsm=(340, 230, 5, 1), noise=(349, 341, 293, 30)):
    return {"pgd": [CLEAN, *pgd], "fgsm": [CLEAN, *fgsm], "noise": [CLEAN, *noise], "square": [CLEAN, *square]}


def raised(c):
    return {k for k, v in flags(c, n=360, bad_gradient_share=0.0, max_bad=0.01).items() if v}


def test_the_margin_is_two_inputs_or_one_percent():
    assert (margin(100), margin(360), margin(1000)) == (2, 4, 10)


def test_square_on_its_own_weaker_than_pgd_is_no_symptom_even_if_it_fools_a_few_pgd_missed():
    # A CNN of the digits: PGD leaves 173 correct at eps 0.1; Square alone leaves 200 (it also fools 5 inputs
    # PGD left correct, which the worst case counts): black-box is not better than white-box.
    assert raised(counts(pgd=(325, 173, 0, 0), square=(326, 200, 0, CLEAN))) == set()


def test_square_on_its_own_beating_pgd_by_the_margin_is_a_symptom_and_one_input_short_is_not():
    assert raised(counts(pgd=(325, 173, 0, 0), square=(326, 169, 0, CLEAN))) == {"square_beats_pgd"}  # 4 = margin
    assert raised(counts(pgd=(325, 173, 0, 0), square=(326, 170, 0, CLEAN))) == set()  # 3 < 4


def test_where_square_did_not_run_its_count_is_the_clean_one_and_raises_nothing():
    assert raised(counts(pgd=(325, 173, 0, 0), square=(CLEAN, CLEAN, CLEAN, CLEAN))) == set()


def test_the_other_symptoms_by_hand():
    assert raised(counts(pgd=(325, 173, 0, 0), square=(CLEAN,) * 4, fgsm=(349, 349, 349, 349))) == {"fgsm_no_effect"}
    # PGD stuck at eps 0.3 (20 left where FGSM leaves 5) and over the whole box (9 left, FGSM 1)
    assert raised(counts(pgd=(325, 173, 20, 9), square=(CLEAN,) * 4)) == {"fgsm_beats_pgd", "unbounded_pgd_fails"}
    assert raised(counts(pgd=(300, 310, 0, 0), square=(CLEAN,) * 4, fgsm=(340, 330, 5, 1))) == {"pgd_not_monotone"}
