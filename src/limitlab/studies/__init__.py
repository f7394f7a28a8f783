"""The studies: one file each, registered by catalog id. A new study adds one import line here."""
from limitlab.studies import adversarial  # noqa: F401
