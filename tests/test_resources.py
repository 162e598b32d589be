"""Memory budgets: estimates beyond the free memory are refused with their size."""

import tensorflow as tf

from tfphys import resources
from tfphys.errors import InputError


class ResourcesTest(tf.test.TestCase):
    def test_budget(self):
        free = resources.available_bytes()
        self.assertGreater(free, 1 << 26)
        resources.check_fits(1 << 20, "a small array", "never shown")
        with self.assertRaisesRegex(InputError, r"^a huge lattice needs about 1024\.0 GiB of memory "
                                                r"and [0-9.]+ GiB is free; use a smaller L$"):
            resources.check_fits(1 << 40, "a huge lattice", "use a smaller L")
        self.assertEqual(resources.chunk_size(1 << 20, budget=1 << 24), 16)
        self.assertEqual(resources.chunk_size(1 << 30, budget=1 << 24), 1)
