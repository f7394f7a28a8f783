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


def test_throughput_counts_whole_batches_and_trains():
    import torch

    from limitlab.models import build

    x, y = torch.rand(32, 1, 8, 8), torch.randint(0, 10, (32,))
    model = build("logreg")
    before = model[1].weight.detach().clone()
    gen = torch.Generator().manual_seed(0)
    n, secs = timing.train_throughput(model, x, y, seconds=0.05, batch_size=8, generator=gen)
    assert n % 8 == 0 and n >= 8 and secs >= 0.05
    assert not torch.equal(before, model[1].weight)  # it trained


def test_matmul_rate_on_a_fake_clock(monkeypatch):
    clock = [0.0]

    def tick():
        clock[0] += 0.01
        return clock[0]

    monkeypatch.setattr(timing.time, "perf_counter", tick)
    # start at 0.01; checks at 0.02, 0.03, 0.04 run a product each; at 0.05 the budget is spent; end read 0.06
    assert timing.matmul_flops(size=4, seconds=0.035) == 2 * 4 ** 3 * 3 / 0.05


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
