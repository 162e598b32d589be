"""Argument checks name the argument and the value."""

import numpy as np
import tensorflow as tf

from tfphys import checks
from tfphys.errors import InputError


class ChecksTest(tf.test.TestCase):
    def test_integers_reals_and_spins(self):
        self.assertEqual(checks.integer("L", np.int64(8), low=2), 8)
        for bad, message in ((3.0, "must be an integer"), (True, "must be an integer"),
                             (1, "must be >= 2")):
            with self.assertRaisesRegex(InputError, f"^L {message}"):
                checks.integer("L", bad, low=2)
        self.assertEqual(checks.real("T", 2), 2.0)
        for bad, kwargs, message in ((float("inf"), {}, "must be a finite number"),
                                     ("2", {}, "must be a finite number"),
                                     (0.0, {"low": 0, "strict": True}, "must be > 0"),
                                     (-1.0, {"low": 0}, "must be >= 0"),
                                     (0.0, {"nonzero": True}, "must not be 0")):
            with self.assertRaisesRegex(InputError, f"^T {message}"):
                checks.real("T", bad, **kwargs)
        checks.spins("s", np.array([[1, -1], [-1, 1]], np.int8))
        with self.assertRaisesRegex(InputError, r"s must be \+-1 spins, found \[0, 3\]"):
            checks.spins("s", np.array([1, 0, 3, -1]))
