"""The errors and warnings of preset loading, saving and downloading.

Each is a subclass of the built-in exception a caller would already catch (ValueError for bad
content, FileNotFoundError for a missing file, OSError for a failed download), so
``except ValueError`` keeps working; the subclasses only let tests and tools be precise.
"""


class PresetError(ValueError):
    """A preset exists but cannot be used: wrong class, unknown format or model type."""


class PresetFormatError(PresetError):
    """A preset file is truncated, corrupt, or not laid out the way its format says."""


class WeightMismatchError(PresetError):
    """The weights in a file do not fit the model: missing, extra, or of the wrong shape."""


class PresetFileNotFoundError(FileNotFoundError):
    """A file the preset needs is not there (not in the directory, not on the hub, not cached)."""


class DownloadError(OSError):
    """A download failed after its retries (network error, server error, short read)."""


class ChecksumError(DownloadError):
    """A downloaded file does not have the size or hash the hub announced."""


class PresetWarning(UserWarning):
    """Something about a preset that does not stop loading but changes what you get: unused
    checkpoint tensors, a randomly initialised head, options KerasHub cannot represent."""


def preset_warning(message):
    """Issue a PresetWarning attributed to the first caller outside minibert (the user's
    ``from_preset`` / ``save_to_preset`` line), however deep inside minibert it is raised."""
    import os
    import sys
    import warnings
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    level, frame = 2, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, PresetWarning, stacklevel=level)
