"""Reinforcement learning for physics: COOL, simulated annealing driven by a TF-Agents policy."""

import contextlib
import io

# tf-agents 0.19 needs gym 0.23, whose import prints a three-line notice from gym_notices to
# stderr; the bin/ scripts promise one-line errors, so it is imported quietly here, once.
with contextlib.redirect_stderr(io.StringIO()):
    import gym  # noqa: F401
