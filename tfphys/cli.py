"""Conventions shared by every `bin/` script: absl flags, logging, errors and exit codes.

A script defines its flags with `absl.flags`, documents itself in its module docstring (shown by
`--help`) and ends with `tfphys.cli.run(main)`. Exit codes:

* 0 -- success (also for `--help`),
* 1 -- the job ran and failed (a check did not pass, a run diverged),
* 2 -- the user asked for something impossible: a bad flag value, bad input data, a missing
  file. The message is one line naming the problem and the fix, never a traceback.
"""

import json
import os
import sys

# TensorFlow's C++ start-up chatter hides the messages people need; keep warnings and errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

from tfphys.errors import InputError, JobFailed  # noqa: E402

EXIT_FAILED = 1
EXIT_USAGE = 2
_HELP_FLAGS = ("-h", "-?", "--help", "--helpshort", "--helpfull")


def _program(argv):
    return os.path.basename(argv[0]) if argv else "tfphys"


def usage_error(argv, message):
    """Print `message` as one line on stderr and exit with the usage status."""
    prog = _program(argv)
    sys.stderr.write(f"{prog}: error: {message} (see {prog} --help)\n")
    sys.exit(EXIT_USAGE)


def _parse_flags(argv):
    """absl flag parsing with a one-line error for bad values and exit 0 for --help."""
    if "-h" in argv[1:]:
        argv = [a if a != "-h" else "--help" for a in argv]
    try:
        return flags.FLAGS(argv)
    except flags.Error as exc:
        usage_error(argv, str(exc))
    except SystemExit:
        # absl's help flags print the usage and exit 1; asking for help is not a failure.
        if any(a.split("=")[0] in _HELP_FLAGS for a in argv[1:]):
            sys.exit(0)
        raise


def run(main):
    """Run `main(argv)` under absl with tfphys's flag, error and exit-code conventions."""

    def _main(argv):
        if len(argv) > 1:
            usage_error(argv, f"unexpected positional arguments {argv[1:]}; every input is a --flag")
        try:
            status = main(argv)
        except InputError as exc:
            logging.flush()
            usage_error(argv, str(exc))
        except JobFailed as exc:
            logging.flush()
            sys.stderr.write(f"{_program(argv)}: failed: {exc}\n")
            sys.exit(EXIT_FAILED)
        except KeyboardInterrupt:
            sys.stderr.write(f"{_program(argv)}: interrupted\n")
            sys.exit(130)
        return status

    app.run(_main, flags_parser=_parse_flags)


def print_figures(title, figures):
    """One stdout line: the title and the figures as JSON (confusion matrices left out)."""
    shown = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in figures.items()
             if k != "confusion"}
    print(f"{title}: {json.dumps(shown)}")
