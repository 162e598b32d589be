"""tf.data input pipelines: from shard directories, or streamed from the generators.

The one path from disk to a model: `shard_arrays` (numpy chunks, a shard at a time, for
scoring), `shard_examples` (unbatched examples of known size, what `fit.train` takes) and
`from_shards` (shuffled batches). Features are float32 of shape (L, L, 1) (the channel axis the
CNNs expect), optionally upscaled losslessly to `upscale_to` pixels a side (the thesis feeds
4x4 and 8x8 Ising lattices to a 16x16 network this way). `stream` generates fresh batches;
`symmetries` augments examples with the square lattice's symmetry group.
"""

import itertools

import numpy as np
import tensorflow as tf

from tfphys.data import png_json, shards
from tfphys.data.spins import generate
from tfphys.errors import InputError

SPLITS = (None, "train", "test")


def upscale(x, size):
    """Repeat rows and columns of (batch, L, L, C) tensors so they become size x size."""
    L = x.shape[1]
    if L is None or size % L:
        raise InputError(f"cannot upscale {L}x{L} lattices to {size}x{size}: not a multiple")
    k = size // L
    return tf.repeat(tf.repeat(x, k, axis=1), k, axis=2)


def symmetries(ds, block=1, spin_flip=True, seed=0, flip_signs=None, translate=True,
               rotate=True, reflect=True, flip_centre=0.0):
    """Each example (features (H, W, C), label) of an unbatched dataset moved by a random element
    of the periodic square lattice's symmetry group: a translation by whole sites (`block`
    pixels per site for upscaled lattices; `translate=False` for grids that are not periodic,
    e.g. potentials), one of the 8 rotations and reflections (`rotate=False`: the 4 reflections
    about the axes only, for images of rectangular cells; `reflect=False`: rotations only, for
    images whose mirror image is not one, e.g. digits), and with `spin_flip` the global
    flip s -> 2 `flip_centre` - s (s -> -s for spins; s -> pi - s for planar Potts angles in
    [0, pi), centre pi / 2). Labels must be invariant under all of them (Ising
    energies and energy classes), except that `flip_signs` (one +-1 per label entry) says how
    a label vector changes under the spin flip (e.g. (E/N, m) -> (E/N, -m): [1, -1]).

    The draw for example i is a pure function of (`seed`, i), so the same seed gives the same
    images whenever the dataset is iterated; training passes (run seed, epoch) for a fresh draw
    every epoch that a resumed run reproduces exactly. Usable as `fit.train(transform=...)`."""
    key = tf.constant(np.random.SeedSequence(seed).generate_state(2, np.uint32).astype(np.int64))

    def move(i, example):
        x, y = example
        r = tf.random.stateless_uniform([], tf.random.experimental.stateless_fold_in(key, i),
                                        maxval=1 << 40, dtype=tf.int64)
        h, w = tf.unstack(tf.shape(x, tf.int64)[:2] // block)
        shift = tf.stack([r % h, (r // h) % w]) * block
        r //= h * w
        if translate:
            x = tf.roll(x, tf.cast(shift, tf.int32), [0, 1])
        if rotate:
            x = tf.image.rot90(x, tf.cast(r % 4, tf.int32))
        else:
            x = tf.where(r % 4 // 2 == 1, tf.reverse(x, [0]), x)
        if reflect:
            x = tf.where(r // 4 % 2 == 1, tf.reverse(x, [1]), x)
        if spin_flip:
            flipped = r // 8 % 2 == 1
            x = tf.where(flipped, 2 * flip_centre - x, x)
            if flip_signs is not None:
                y = tf.where(flipped, y * tf.constant(flip_signs, y.dtype), y)
        return x, y

    return ds.enumerate().map(move, num_parallel_calls=tf.data.AUTOTUNE)


def energy_magnetization_symmetries(ds, seed=0):
    """`symmetries` for (spins, (E/N, m)) examples: the spin flip turns m into -m. Usable as
    `fit.train(transform=...)`."""
    return symmetries(ds, seed=seed, flip_signs=[1.0, -1.0])


def _features(x, upscale_to, channels=False):
    """float32 features with a channel axis (added unless the field has one: `channels`)."""
    x = tf.cast(x, tf.float32)
    x = x if channels else x[..., tf.newaxis]
    return upscale(x, upscale_to) if upscale_to else x


def _check_split(split):
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; choose one of {SPLITS}")


def shard_arrays(directory, label="energy", split=None, check=None, verify=True,
                 features="spins"):
    """(features, labels) numpy arrays of one SHA3 `split` ('train', 'test' or None), one shard
    at a time: memory holds one shard, whatever the dataset's size. `features` names the input
    field ("spins"; "potential" for Schrödinger sets); `label` a field, or a tuple of fields
    (then the labels are a tuple of arrays). `check(data, path)` may raise InputError for a
    shard whose contents do not fit the consumer."""
    _check_split(split)
    manifest = shards.read_manifest(directory)
    fields = manifest["fields"] or {}
    names = label if isinstance(label, tuple) else (label,)
    if not {features, *names} <= set(fields):
        raise InputError(f"{directory} has fields {sorted(fields)}; need {features!r} and "
                         f"{' and '.join(map(repr, names))}")
    for entry in manifest["shards"]:
        data = shards.read_shard(directory, entry, verify)
        if check is not None:
            check(data, entry["file"])
        keep = slice(None) if split is None else data["test"].astype(bool) == (split == "test")
        labels = tuple(data[name][keep] for name in names)
        yield data[features][keep], labels if isinstance(label, tuple) else labels[0]


def shard_examples(directory, label="energy", split=None, check=None, upscale_to=None,
                   features="spins"):
    """Unbatched (features, label) examples of a shard directory in a fixed order with a known
    size (what `fit.train` shuffles, shards across ranks and batches). Every shard is verified
    once up front (checksum, readable, `check`), so a bad shard is one clear error before
    training instead of a failure inside TensorFlow half-way through an epoch."""
    n = sum(len(s) for s, _ in shard_arrays(directory, label, split, check, features=features))
    if not n:
        raise InputError(f"{directory} has no {split or ''} examples")
    fields = shards.read_manifest(directory)["fields"]
    spec = tuple(tf.TensorSpec([None] + fields[name]["shape"], np.dtype(fields[name]["dtype"]))
                 for name in (features, label))
    ds = tf.data.Dataset.from_generator(
        lambda: shard_arrays(directory, label, split, verify=False, features=features),
        output_signature=spec)
    channels = len(fields[features]["shape"]) == 3  # (H, W, C) images, e.g. RGB scenes
    ds = ds.unbatch().map(lambda x, y: (_features(x[tf.newaxis], upscale_to, channels)[0], y),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.apply(tf.data.experimental.assert_cardinality(n))


def png_examples(directory, split=None):
    """Unbatched (image (H, W, channels) float32 in 0-255, counts) examples of a PNG+JSON
    counting dataset (`data.png_json`) in a fixed order with a known size: every header and
    label is checked up front, images are decoded lazily (bounded memory)."""
    _check_split(split)
    paths, counts, test, _, shape = png_json.read(directory)
    keep = slice(None) if split is None else test == (split == "test")
    paths, counts = np.array(paths)[keep], counts[keep]
    if not len(paths):
        raise InputError(f"{directory} has no {split or ''} images")

    def decode(path, label):
        image = tf.io.decode_png(tf.io.read_file(path), channels=shape[2])
        return tf.ensure_shape(tf.cast(image, tf.float32), shape), label

    return tf.data.Dataset.from_tensor_slices((paths, counts)).map(decode)


def from_shards(directory, batch_size, label="energy", split=None, shuffle_buffer=10000,
                upscale_to=None, seed=None, drop_remainder=False, features="spins"):
    """Shuffled batches (features, label) of a shard directory (see `shard_examples`);
    `shuffle_buffer` 0 keeps the stored order."""
    ds = shard_examples(directory, label, split, upscale_to=upscale_to, features=features)
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def stream(source, batch_size, sampler="uniform", label="energy", split=None, upscale_to=None,
           seed=None, start=0, **sampler_args):
    """An endless dataset of fresh batches generated on the fly by `tfphys.data.spins.generate`
    (e.g. uniform or thermal configurations of `source`), each with exact labels. Batch i is
    drawn from (`seed`, i) alone, so `start` resumes the stream at batch `start` exactly."""
    _check_split(split)
    probe = generate(source, sampler, 1, seed=0, **sampler_args)
    spec = (tf.TensorSpec((None, source.L, source.L), probe["spins"].dtype),
            tf.TensorSpec((None,) + probe[label].shape[1:], probe[label].dtype))

    def batches():
        root = np.random.SeedSequence(seed)
        for i in itertools.count(start):
            child = np.random.SeedSequence(root.entropy, spawn_key=(i,))
            data = generate(source, sampler, batch_size, seed=child, **sampler_args)
            keep = slice(None) if split is None else data["test"] == (split == "test")
            yield data["spins"][keep], data[label][keep]

    ds = tf.data.Dataset.from_generator(batches, output_signature=spec)
    return ds.map(lambda x, y: (_features(x, upscale_to), y)).prefetch(tf.data.AUTOTUNE)
