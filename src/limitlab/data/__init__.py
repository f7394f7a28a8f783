"""Built-in data (no download) and users' array files, validated once at the entrance."""
from limitlab.data.arrays import ArrayDataset, Split, load_arrays, validate_arrays
from limitlab.data.digits import digits
from limitlab.data.glyphs import glyphs

__all__ = ["ArrayDataset", "Split", "digits", "glyphs", "load_arrays", "validate_arrays"]
