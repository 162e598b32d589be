"""tf.data input pipelines: from shard directories, or streamed from the generators.

Both yield (features, label) batches with features float32 of shape (batch, L, L, 1) (the
channel axis the CNNs expect), optionally upscaled losslessly to `upscale_to` pixels a side
(the thesis feeds 4x4 and 8x8 Ising lattices to a 16x16 network this way). `symmetries`
augments a dataset with the square lattice's symmetry group.
"""

import itertools

import numpy as np
import tensorflow as tf

from tfphys.data import shards
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


def symmetries(ds, block=1, spin_flip=True, seed=None):
    """Each example (features (H, W, C), label) of an unbatched dataset moved by a random element
    of the periodic square lattice's symmetry group: a translation by whole sites (`block`
    pixels per site for upscaled lattices), one of the 8 rotations and reflections, and with
    `spin_flip` the global flip s -> -s. Only for labels invariant under all of them (Ising
    energies and energy classes; no spin flip for the signed magnetization). A fresh draw each
    epoch, reproducible from `seed`."""
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

    def move(example, r):
        x, y = example
        n = tf.shape(x, tf.int64)[0] // block
        shift = tf.stack([r % n, (r // n) % n]) * block
        r //= n * n
        x = tf.image.rot90(tf.roll(x, tf.cast(shift, tf.int32), [0, 1]), tf.cast(r % 4, tf.int32))
        x = tf.where(r // 4 % 2 == 1, tf.reverse(x, [1]), x)
        if spin_flip:
            x = tf.where(r // 8 % 2 == 1, -x, x)
        return x, y

    return tf.data.Dataset.zip((ds, draws.map(tf.abs))).map(move, num_parallel_calls=tf.data.AUTOTUNE)


def _features(x, upscale_to):
    x = tf.cast(x, tf.float32)[..., tf.newaxis]
    return upscale(x, upscale_to) if upscale_to else x


def _check_split(split):
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; choose one of {SPLITS}")


def from_shards(directory, batch_size, label="energy", split=None, shuffle_buffer=10000,
                upscale_to=None, seed=None, verify=True, drop_remainder=False):
    """Batches from a shard directory (see `tfphys.data.shards`).

    Shards are read in parallel and interleaved, examples filtered by SHA3 `split` ('train',
    'test' or None for all), shuffled (`shuffle_buffer` 0 turns it off), batched and
    prefetched. Checksums are verified as each shard is opened (`verify`).
    """
    _check_split(split)
    manifest = shards.read_manifest(directory)
    fields = manifest["fields"] or {}
    if "spins" not in fields or label not in fields:
        raise InputError(f"{directory} has fields {sorted(fields)}; need 'spins' and {label!r}")
    spec = (tf.TensorSpec([None] + fields["spins"]["shape"], np.dtype(fields["spins"]["dtype"])),
            tf.TensorSpec([None] + fields[label]["shape"], np.dtype(fields[label]["dtype"])),
            tf.TensorSpec([None], tf.bool))
    entries = manifest["shards"]

    def read(index):
        data = shards.read_shard(directory, entries[int(index)], verify)
        yield data["spins"], data[label], data["test"].astype(bool)

    def shard_dataset(index):
        return tf.data.Dataset.from_generator(read, args=(index,), output_signature=spec).unbatch()

    ds = tf.data.Dataset.range(len(entries))
    if shuffle_buffer:
        ds = ds.shuffle(len(entries), seed=seed)
    ds = ds.interleave(shard_dataset, cycle_length=min(4, max(1, len(entries))),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=seed is not None)
    if split is not None:
        want_test = split == "test"
        ds = ds.filter(lambda x, y, t: tf.equal(t, want_test))
    ds = ds.map(lambda x, y, t: (x, y))
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.map(lambda x, y: (_features(x, upscale_to), y),
                  num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def stream(source, batch_size, sampler="uniform", label="energy", split=None, upscale_to=None,
           seed=None, **sampler_args):
    """An endless dataset of fresh batches generated on the fly by `tfphys.data.spins.generate`
    (e.g. uniform or thermal configurations of `source`), each with exact labels."""
    _check_split(split)
    probe = generate(source, sampler, 1, seed=0, **sampler_args)
    spec = (tf.TensorSpec((None, source.L, source.L), probe["spins"].dtype),
            tf.TensorSpec((None,) + probe[label].shape[1:], probe[label].dtype))

    def batches():
        root = np.random.SeedSequence(seed)
        for i in itertools.count():
            child = np.random.SeedSequence(root.entropy, spawn_key=(i,))
            data = generate(source, sampler, batch_size, seed=child, **sampler_args)
            keep = slice(None) if split is None else data["test"] == (split == "test")
            yield data["spins"][keep], data[label][keep]

    ds = tf.data.Dataset.from_generator(batches, output_signature=spec)
    return ds.map(lambda x, y: (_features(x, upscale_to), y)).prefetch(tf.data.AUTOTUNE)
