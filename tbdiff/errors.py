"""The one exception type users see as a one-line message (exit code 2), never a traceback."""


class TbdiffError(Exception):
    """Bad input or environment: the message is shown to the user as is, on one line."""


class DataUnavailableError(TbdiffError):
    """Training data is missing and cannot be downloaded."""


class MissingDependencyError(TbdiffError, ImportError):
    """An optional package a feature needs is not installed; the message says what to install."""


class UsageError(TbdiffError, ValueError):
    """An option given to the Python API that the matching command-line flag would refuse."""
