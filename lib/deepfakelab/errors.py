"""Errors the kit raises on bad input.

Every error a user can cause (a photo with no face, a corrupt video, a config that cannot
produce an image) is a :class:`DeepfakeLabError` with a message that names the file or the
setting and says what to do. The CLI prints these without a traceback.
"""


class DeepfakeLabError(Exception):
    """Base class for errors caused by the user's input or settings, not by a bug."""


class ConfigError(DeepfakeLabError, ValueError):
    """A configuration that cannot work, with the field and the reason."""


class DataError(DeepfakeLabError):
    """Input data that is missing, unreadable or empty."""


class TrainingDiverged(DeepfakeLabError):
    """A training run produced NaN or infinite losses; the last good checkpoint was kept."""
