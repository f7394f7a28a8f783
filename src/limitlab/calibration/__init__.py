"""Calibration: ECE, MCE, reliability diagrams, NLL, Brier, and temperature scaling."""
from limitlab.calibration.ece import Reliability, ece, mce, reliability
from limitlab.calibration.scores import accuracy, brier, nll
from limitlab.calibration.temperature import TemperatureScaler

__all__ = ["Reliability", "TemperatureScaler", "accuracy", "brier", "ece", "mce", "nll", "reliability"]
