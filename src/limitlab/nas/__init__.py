"""Architecture search probes: a search space of small digit classifiers and three searchers.

Zoph, Le. Neural architecture search with reinforcement learning. ICLR 2017, arXiv:1611.01578 (the
controller); Bergstra, Bengio 2012 (random search); Bergstra et al. 2011 and Optuna (TPE). Every searcher
takes `evaluate(choices) -> reward` and a budget `num_children`, and returns a `SearchTrace`.
"""
from limitlab.nas.controller import Controller, reinforce_search
from limitlab.nas.random_search import random_search
from limitlab.nas.space import DECISIONS, build_child, canonical, describe, space_size
from limitlab.nas.tpe import tpe_search
from limitlab.nas.trace import SearchTrace

__all__ = ["DECISIONS", "Controller", "SearchTrace", "build_child", "canonical", "describe", "random_search",
           "reinforce_search", "space_size", "tpe_search"]
