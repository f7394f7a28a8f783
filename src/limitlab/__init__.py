"""limitlab: the limitations of deep learning as measured, reproducible experiments."""
__version__ = "0.1.0"
