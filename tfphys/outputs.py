"""Where tfphys may write: outputs never replace what they did not make.

Every folder tfphys writes (a model export, a dataset, a run directory) holds a marker file
naming what it is; `claim_dir` accepts a path that is new, an empty folder, or a folder holding
that marker (a previous output of the same kind, which may be updated or replaced), and raises a
one-line InputError for anything else: a user's folder, an existing file, a place that cannot be
written. `claim_file` does the same for single files (plots). `read_marker` reads a marker
(a JSON object tagged with its format) back, with one line for anything else.
`atomic_write` writes a file under a temporary name and renames it, so a crash never leaves a
half-written file under the real name.
"""

import json
import os

from tfphys.errors import InputError


def _writable_parent(path, flag):
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise InputError(f"{flag} {path}: {parent} is a file, not a folder; choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {path}: {parent} is not writable; choose a folder you can write to")


def claim_dir(path, marker, what, flag):
    """Check that `path` may hold a `what` (identified by the file `marker` inside it)."""
    if not path:
        raise InputError(f"{flag} needs a folder path")
    if os.path.lexists(path) and not os.path.isdir(path):
        raise InputError(f"{flag} {path} is an existing file, not a folder; choose a new folder")
    if os.path.isdir(path):
        entries = sorted(os.listdir(path))
        if entries and marker not in entries:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise InputError(f"{flag} {path} already holds files that are not a {what} ({shown}); "
                             f"tfphys only replaces its own {what}s: choose a new or empty folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(f"{flag} {path} is not writable; choose a folder you can write to")
    else:
        _writable_parent(path, flag)
    return os.path.abspath(path)


def claim_folder(path, flag):
    """Make the folder `path` for loose output files (plots, images), refusing an existing file
    or an unwritable place."""
    if os.path.lexists(path) and not os.path.isdir(path):
        raise InputError(f"{flag} {path} is an existing file; give a folder")
    _writable_parent(path, flag)
    os.makedirs(path, exist_ok=True)
    return path


def claim_file(path, suffix, flag):
    """Check that `path` may be (re)written as a `suffix` file (e.g. a '.png' plot)."""
    if not path or not path.lower().endswith(suffix):
        raise InputError(f"{flag} must name a {suffix} file, got {path!r}")
    if os.path.isdir(path):
        raise InputError(f"{flag} {path} is a folder; give a file name ending in {suffix}")
    _writable_parent(path, flag)
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise InputError(f"{flag} {path} is not writable")
    return path


def read_marker(path, fmt, fix):
    """The JSON object in marker file `path`, which must carry {"format": fmt}; InputError
    ending in `fix` if it is unreadable or something else."""
    try:
        with open(path) as handle:
            content = json.load(handle)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is unreadable ({exc}); {fix}") from None
    if not isinstance(content, dict) or content.get("format") != fmt:
        found = content.get("format") if isinstance(content, dict) else type(content).__name__
        raise InputError(f"{path} has format {found!r}, expected {fmt!r}; {fix}")
    return content


def atomic_write(path, write):
    """Call `write(handle)` on `path`.tmp-PID, flush to disk, then rename it to `path`."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
