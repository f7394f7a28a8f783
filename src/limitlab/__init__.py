"""limitlab: the limitations of deep learning as measured, reproducible experiments."""
__version__ = "0.1.0"


def __getattr__(name: str):
    # `limitlab.audit(model, x, y)` without importing torch on `import limitlab` (the report layer
    # imports limitlab and must stay torch-free): the audit package loads on first use.
    if name == "audit":
        import limitlab.audit

        return limitlab.audit
    raise AttributeError(f"module 'limitlab' has no attribute {name!r}")
