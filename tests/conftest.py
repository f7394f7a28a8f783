import os
import tempfile

import pytest
import torch

# Tests never touch the user's model cache.
os.environ["LIMITLAB_CACHE_DIR"] = tempfile.mkdtemp(prefix="limitlab-test-cache-")


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
    yield
