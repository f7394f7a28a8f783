"""The constructive one-hidden-layer tanh network: features by hand, its derivative against finite differences."""
import numpy as np

from limitlab.models.tanh_features import features, fit_output_layer, forward


def test_features_by_hand():
    phi, s, centers = features(np.array([0.0, 0.5]), 2, 1.0)
    np.testing.assert_allclose(centers, [-0.5, 0.5])
    np.testing.assert_allclose(phi, [[np.tanh(1.0), np.tanh(-1.0), 1.0], [np.tanh(2.0), 0.0, 1.0]])


def test_least_squares_recovers_a_network_of_the_same_family_and_its_slope():
    x = np.linspace(-1, 1, 201)
    a_true = np.array([0.5, -1.0, 2.0, 0.25])  # three units and a constant
    y = features(x, 3, 2.0)[0] @ a_true
    a = fit_output_layer(x, y, width=3, steepness=2.0)
    np.testing.assert_allclose(a, a_true, atol=1e-10)
    f, slope = forward(x, a, steepness=2.0)
    np.testing.assert_allclose(f, y, atol=1e-10)
    h = 1e-6
    fd = (forward(x + h, a, steepness=2.0)[0] - forward(x - h, a, steepness=2.0)[0]) / (2 * h)
    np.testing.assert_allclose(slope, fd, rtol=1e-6, atol=1e-6)
