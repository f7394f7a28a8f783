"""Bayesian optimization with the tree-structured Parzen estimator (TPE), through Optuna.

Bergstra, Bardenet, Bengio, Kegl. Algorithms for hyper-parameter optimization. NeurIPS 2011.
Akiba et al. Optuna: a next-generation hyperparameter optimization framework. KDD 2019.
The first `num_startup` children are random; later ones come from TPE's density ratio.
"""
from __future__ import annotations

from collections.abc import Callable

from limitlab.config import check
from limitlab.nas.space import DECISIONS
from limitlab.nas.trace import SearchTrace


def tpe_search(evaluate: Callable[[tuple[int, ...]], float], *, num_children: int, seed: int,
               num_startup: int = 4) -> SearchTrace:
    """Train `num_children` children proposed by Optuna's TPESampler (seeded: reproducible)."""
    import optuna  # imported here: it is slow to import and only this searcher needs it

    check(num_children >= 1, f"num_children={num_children}; expected >= 1")
    check(num_startup >= 1, f"num_startup={num_startup}; expected >= 1")
    trace = SearchTrace()

    def objective(trial: optuna.Trial) -> float:
        choices = tuple(trial.suggest_categorical(name, list(range(len(opts)))) for name, opts in DECISIONS)
        reward = evaluate(choices)
        trace.add(choices, reward)
        return reward

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no log line per trial
    try:
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=num_startup)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=num_children)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return trace
