"""Calibration: ECE, MCE, reliability diagrams, NLL, Brier, and temperature and vector scaling."""
from limitlab.calibration.ece import Reliability, ece, mce, reliability
from limitlab.calibration.scores import accuracy, brier, nll
from limitlab.calibration.temperature import TemperatureScaler
from limitlab.calibration.vector import VectorScaler

__all__ = ["Reliability", "TemperatureScaler", "VectorScaler", "accuracy", "brier", "ece", "mce", "nll", "reliability"]
