"""Train/test assignment by SHA3-512 hash (thesis, Appendix A).

A configuration goes to the test set when the 12 most significant bits of the SHA3-512 digest
of its bytes fall below `test_fraction * 4096`. Identical configurations therefore always land
on the same side, however often a sampler repeats them: no test example is in the training set.
"""

import hashlib

import numpy as np

from tfphys.errors import InputError

BUCKETS = 4096  # 12 bits


def hash_bucket(configs):
    """12-bit SHA3-512 bucket (0..4095) of each configuration of a batch.

    Spin configurations are hashed as int8 bytes, anything else as float64 bytes, so the
    bucket does not depend on the dtype the caller happens to hold.
    """
    configs = np.asarray(configs)
    if configs.ndim < 2:
        raise InputError(f"expected a batch of configurations, got shape {configs.shape}")
    spins = np.issubdtype(configs.dtype, np.integer) or np.all(np.abs(configs) == 1)
    flat = np.ascontiguousarray(configs, np.int8 if spins else np.float64).reshape(len(configs), -1)
    return np.fromiter((int.from_bytes(hashlib.sha3_512(row.tobytes()).digest()[:2], "big") >> 4
                        for row in flat), np.int64, len(flat))


def is_test(configs, test_fraction=0.1):
    """Boolean mask: True for configurations assigned to the test set."""
    if not 0.0 <= test_fraction <= 1.0:
        raise InputError(f"test_fraction must be in [0, 1], got {test_fraction}")
    return hash_bucket(configs) < round(test_fraction * BUCKETS)
