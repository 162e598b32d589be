"""Errors a user can fix: bad input, bad flags, missing or corrupt files.

Raised anywhere in tfphys with a message that names the problem and the fix; the command-line
layer (`tfphys.cli`) prints them as one line and exits with status 2 instead of a traceback.
"""


class InputError(ValueError):
    """Input the user can correct (wrong shape, bad value, missing or corrupt file)."""
