"""JPEG's quantization against Pillow's own JPEG round trip (libjpeg), and the quality tables by hand."""
import io

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.ndimage import gaussian_filter

from limitlab.data.jpeg import LUMINANCE, jpeg_quantize, quantization_table
from limitlab.errors import ConfigError, DataError


def test_quality_tables_by_hand():
    assert np.array_equal(quantization_table(50), LUMINANCE)  # scale 100: the standard table itself
    assert np.array_equal(quantization_table(100), np.ones((8, 8)))  # scale 0 -> clamped up to 1
    # q = 80: scale 200 - 160 = 40; (16 * 40 + 50) // 100 = 6, (99 * 40 + 50) // 100 = 40
    assert quantization_table(80)[0, 0] == 6 and quantization_table(80)[7, 7] == 40
    # q = 40: scale 5000 // 40 = 125; (16 * 125 + 50) // 100 = 20, (121 * 125 + 50) // 100 = 151
    assert quantization_table(40)[0, 0] == 20 and quantization_table(40)[6, 5] == 151
    # q = 1: scale 5000, every entry >= 16 * 50 -> clamped to 255 (baseline JPEG)
    assert np.array_equal(quantization_table(1), np.full((8, 8), 255.0))
    for bad in (0, 101, 2.5, True):
        with pytest.raises(ConfigError, match="JPEG quality"):
            quantization_table(bad)


def pillow_round_trip(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img, "L").save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.float64)


@pytest.mark.parametrize("shape", [(24, 40), (21, 13)])  # 13 and 21: padded by repeating the edge, as libjpeg
def test_grey_images_match_pillows_jpeg(shape):
    rng = np.random.default_rng(0)
    smooth = gaussian_filter(rng.random((3, *shape)) * 255, (0, 1.5, 1.5))
    img = np.clip((smooth - smooth.mean()) * 4 + 128, 0, 255).round().astype(np.uint8)
    x = torch.from_numpy(img[:, None] / 255.0)
    for q in (80, 65, 50, 40, 10):
        pil = np.stack([pillow_round_trip(im, q) for im in img])
        ours = np.clip(jpeg_quantize(x, quality=q).numpy()[:, 0] * 255, 0, 255)  # libjpeg clamps to 8 bits
        lost = np.abs(img - pil).mean()  # what JPEG changed, on average (levels of 255)
        # libjpeg's integer DCT and 8-bit rounding differ from ours by well under a level on average, a
        # small fraction of what compression itself changes; a rare coefficient rounds the other way
        assert np.abs(ours - pil).mean() < min(0.6, 0.3 * lost), q  # 0.25: rounding to 8 bits alone
        assert np.mean(np.abs(ours - pil) <= 2) > 0.9, q


def test_flat_blocks_keep_their_mean_to_half_a_dc_step_and_bad_input_is_one_line():
    x = torch.full((1, 2, 8, 8), 0.37, dtype=torch.float64)
    out = jpeg_quantize(x, quality=40)
    assert float(out.std()) < 1e-12  # a flat block has only a DC coefficient
    assert abs(float(out[0, 0, 0, 0]) - 0.37) <= 20 / 2 / 8 / 255 + 1e-12  # DC = 8 x mean, step 20 at q = 40
    with pytest.raises(DataError, match="N x C x H x W"):
        jpeg_quantize(torch.rand(8, 8), quality=50)
