"""Test session set-up: two logical CPU devices, so MirroredStrategy runs for real on CPU."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfphys.testing import use_logical_cpus  # noqa: E402

LOGICAL_CPUS = use_logical_cpus(2)


def pytest_collection_modifyitems(items):
    """tf.test.TestCase.test_session is a context manager, not a test: don't list it."""
    items[:] = [item for item in items if item.name != "test_session"]
