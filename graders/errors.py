"""Errors that end a `grade` run before a grade exists, each with its exit code.

The message of each is one sentence for the user: what is wrong and how to fix it.
"""


class GraderError(Exception):
    exit_code = 1


class UsageError(GraderError):
    """Bad usage or bad input: a missing file, an unknown challenge, an invalid challenge.toml."""

    exit_code = 2


class SandboxUnavailable(GraderError):
    """The sandbox could not be used: no engine, no image, or it failed to start."""

    exit_code = 3


class ChallengeError(GraderError):
    """The challenge is broken: a test or conftest that does not import, a driver that does
    not import, a test calling an operation the driver lacks. The author's error, never the
    candidate's."""

    exit_code = 2
