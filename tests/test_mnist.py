"""MNIST digits: IDX files (plain and gzipped) read back exactly; bad magic, truncated and
missing files refused in one line."""

import gzip
import os

import numpy as np
import tensorflow as tf

from tfphys.data import mnist
from tfphys.errors import InputError


def idx(path, magic, array, opener=open):
    with opener(path, "wb") as handle:
        handle.write(magic.to_bytes(4, "big"))
        for n in array.shape:
            handle.write(int(n).to_bytes(4, "big"))
        handle.write(array.astype(np.uint8).tobytes())


class MnistTest(tf.test.TestCase):
    def test_idx_files(self):
        d = self.get_temp_dir()
        images = np.random.default_rng(0).integers(0, 256, (7, 28, 28)).astype(np.uint8)
        labels = np.arange(7) % 10
        idx(os.path.join(d, "train-images-idx3-ubyte.gz"), 2051, images, gzip.open)
        idx(os.path.join(d, "train-labels-idx1-ubyte"), 2049, labels)
        got, got_labels, source = mnist.digits(d)
        self.assertAllEqual(got, images)
        self.assertAllEqual(got_labels, labels)
        self.assertIn(d, source)
        idx(os.path.join(d, "train-labels-idx1-ubyte"), 2051, labels)
        with self.assertRaisesRegex(InputError, "bad magic number"):
            mnist.digits(d)
        with open(os.path.join(d, "train-labels-idx1-ubyte"), "wb") as handle:
            handle.write((2049).to_bytes(4, "big") + (9).to_bytes(4, "big") + b"\x01")
        with self.assertRaisesRegex(InputError, "is truncated"):
            mnist.digits(d)
        with self.assertRaisesRegex(InputError, "no train-images-idx3-ubyte"):
            mnist.digits(os.path.join(d, "elsewhere"))
