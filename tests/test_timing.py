"""best_time_ratio times the two functions in alternation and compares their best times."""
import limitlab.timing as timing


def test_best_time_ratio_on_a_fake_clock(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    order = []

    def work(name, cost):
        def run():
            order.append(name)
            clock[0] += cost.pop(0) if isinstance(cost, list) else cost
        return run

    # the attack costs 3, 2.5, 4 after its warm-up; the base 1 except one disturbed run
    ratio, base = timing.best_time_ratio(work("a", [9, 3, 2.5, 4]), work("b", [9, 1, 5, 1]), repeats=3)
    assert base == 1 and ratio == 2.5
    assert order == ["a", "b", "a", "b", "b", "a", "a", "b"]  # warm-up, then alternating which goes first


def test_best_time_after_leaves_the_setup_out(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    costs = [4.0, 2.0, 3.0]

    def setup():
        clock[0] += 100.0  # never timed
        return costs.pop(0)

    def fn(cost):
        clock[0] += cost

    assert timing.best_time_after(setup, fn, repeats=3) == 2.0 and not costs
