"""Errors a user can fix, and jobs that ran and failed.

`InputError`: bad input, bad flags, missing or corrupt files. Raised anywhere in tfphys with a
message that names the problem and the fix; the command-line layer (`tfphys.cli`) prints it as
one line and exits with status 2 instead of a traceback.
`JobFailed`: the input was fine but the job did not succeed (e.g. training diverged); one line
and exit status 1, and nothing is written as if it had succeeded.
"""


class InputError(ValueError):
    """Input the user can correct (wrong shape, bad value, missing or corrupt file)."""


class JobFailed(RuntimeError):
    """A job that ran and failed; its outputs are not written."""


class TrainingDiverged(JobFailed):
    """The training loss became NaN or infinite."""
