"""Expected failures of the `submit` command and the exit codes they map to.

The CLI prints `ClassName: message` for these and exits with `exit_code`; anything else is an
internal error (exit 3) whose traceback goes to a log file.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class SubmitError(Exception):
    """Base of every expected failure; the message says what to do next."""

    exit_code = EXIT_USAGE


class UsageError(SubmitError):
    """The command was called wrongly (bad option value, unknown rule or schema name)."""


class InputError(SubmitError):
    """An input the command needs is missing, unreadable or not what it should be."""


class ReferenceCheckoutError(SubmitError):
    """The --reference folder is not a usable checkout of mlcommons/tiny."""
