"""The model zoo and the one training loop (with the on-disk cache)."""
from limitlab.models.train import History, TrainConfig, correct, evaluate, fit, predict, predict_logits
from limitlab.models.zoo import MODELS, build

__all__ = ["MODELS", "History", "TrainConfig", "build", "correct", "evaluate", "fit", "predict", "predict_logits"]
