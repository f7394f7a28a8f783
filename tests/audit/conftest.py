"""Shared, trained-once subjects for the audit tests (session scope: each trains in seconds, once)."""
import pytest
from torch import nn

from tests.audit import cases


@pytest.fixture(scope="session")
def mlp():
    return cases.digits_mlp()


@pytest.fixture(scope="session")
def softmax_mlp(mlp):
    return nn.Sequential(mlp, nn.Softmax(dim=1))


@pytest.fixture(scope="session")
def examples_net():
    return cases.examples_net()


@pytest.fixture(scope="session")
def rounded():
    return cases.preprocessed_logreg(cases.Quantize(4.0), scale=16.0)


@pytest.fixture(scope="session")
def thresholded():
    return cases.preprocessed_logreg(cases.Threshold(8.0), scale=1.0)


@pytest.fixture(scope="session")
def cancer():
    x, y, x_test, y_test = cases.breast_cancer()
    return cases.standardized_logreg(x, y), x_test, y_test


@pytest.fixture(scope="session")
def outlier():
    x, y = cases.outlier_table(600, seed=0)
    x_test, y_test = cases.outlier_table(300, seed=1)
    return cases.standardized_logreg(x, y), x_test, y_test


@pytest.fixture(scope="session")
def bn_cnn():
    return cases.bn_cnn()
