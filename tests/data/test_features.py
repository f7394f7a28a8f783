import numpy as np
import pytest

from limitlab.data.features import hog_features
from limitlab.errors import DataError


def test_shape_of_the_descriptor():
    # 8x8 upsampled to 16x16: 4x4 cells of 4 px, 3x3 positions of a 2x2 block, 9 bins: 3*3*2*2*9 = 324.
    f = hog_features(np.random.default_rng(0).random((3, 1, 8, 8)))
    assert f.shape == (3, 324)


def test_flat_image_has_no_gradient_energy():
    assert np.allclose(hog_features(np.full((2, 8, 8), 0.5)), 0.0)


def test_vertical_edge_puts_its_energy_in_the_horizontal_gradient_bin():
    img = np.zeros((1, 8, 8))
    img[:, :, 4:] = 1.0  # a vertical edge: the gradient points along x, orientation 0 degrees
    f = hog_features(img).reshape(3, 3, 2, 2, 9)
    per_bin = f.sum(axis=(0, 1, 2, 3))
    assert per_bin.argmax() == 0 and per_bin[0] > 0.9 * per_bin.sum() - 1e-9
    turned = hog_features(img.transpose(0, 2, 1)).reshape(3, 3, 2, 2, 9).sum(axis=(0, 1, 2, 3))
    assert turned.argmax() == 4 and turned[4] > 0.4 * turned.sum()  # a horizontal edge: 90 deg, bins 4 and 5 share it


def test_bad_shape_is_a_data_error():
    with pytest.raises(DataError, match="expected N x H x W"):
        hog_features(np.zeros((8, 8)))
    with pytest.raises(DataError, match="smaller than one block"):
        hog_features(np.zeros((1, 2, 2)), upsample=1)
