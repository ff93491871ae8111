"""Typed errors raised at the input boundary; the CLI turns them into one-line messages."""


class SstfillError(Exception):
    """Base class: the message says what was expected, what was found and what to do."""


class InputError(SstfillError):
    """An input file or argument does not meet sstfill's input contract."""


class CheckpointError(SstfillError):
    """A model file cannot be read or does not match what sstfill expects."""


class DeviceError(SstfillError):
    """The requested compute device is not available."""


class OutputError(SstfillError):
    """The output cannot be written where asked."""


class ResultError(SstfillError):
    """A result failed sstfill's own checks (non-finite or implausible values) and was not written."""
