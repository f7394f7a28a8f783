"""limitlab: the limitations of deep learning as measured, reproducible experiments.

    import limitlab
    limitlab.studies()                               # what there is to run
    results = limitlab.run(["adversarial"], preset="tiny")
    limitlab.to_frame(results)                       # a pandas DataFrame (the `frame` extra)
    limitlab.sweep("adversarial", grid={"eps": [0.05, 0.1]}, seeds=3)
    limitlab.audit(model, x, y)                      # your own classifier

`import limitlab` stays light (no torch): the entry points load on first use.
"""
__version__ = "0.2.0"

_LAZY = {"run": "limitlab.api", "to_frame": "limitlab.api", "sweep": "limitlab.sweeps"}


def __getattr__(name: str):
    if name == "audit":  # `limitlab.audit(model, x, y)`: the audit package itself is callable
        import limitlab.audit

        return limitlab.audit
    if name == "studies":  # `limitlab.studies()`: the studies package itself is callable
        import limitlab.studies

        return limitlab.studies
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'limitlab' has no attribute {name!r}")
