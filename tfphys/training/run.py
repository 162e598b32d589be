"""A preset turned into data, a model and figures: what bin/train_* and bin/evaluate share.

Data come from a shard directory (its SHA3 train/test flags) or are generated in memory with
the preset's sampler; in the latter case the test set is a separate draw keeping only
configurations the SHA3 split assigns to testing, so no test configuration is ever trained on.
"""

import numpy as np
import tensorflow as tf

from tfphys.data import pipeline, shards, spins
from tfphys.errors import InputError
from tfphys.models import cnn, ednn
from tfphys.physics import ising
from tfphys.training import evaluate


def source(preset, L=None):
    return spins.SpinSource("ising", L or preset.L)


def examples(preset, split, data_dir=None, seed=0, count=None, L=None, sampler=None, **sampler_args):
    """(spins, labels) numpy arrays of one split ('train', 'test' or 'all' = whole 4x4 space)."""
    if split == "all":
        data = spins.generate(source(preset, L), "all", 1)
    elif data_dir:
        data = shards.load(data_dir)
        keep = data["test"] == (split == "test")
        data = {k: v[keep] for k, v in data.items()}
    else:
        want = count or (preset.train_examples if split == "train" else preset.test_examples)
        kind = sampler or preset.sampler
        # the test set is drawn from a different seed and keeps only SHA3-test configurations
        draw = want if split == "train" else 12 * want
        data = spins.generate(source(preset, L), kind, draw, seed=[seed, split == "test"], **sampler_args)
        keep = data["test"] == (split == "test")
        data = {k: v[keep][:want] for k, v in data.items()}
    if not len(data["spins"]):
        raise InputError(f"no {split} examples found; check the data directory or counts")
    return data["spins"], data[preset.label]


def features(preset, configs):
    """Float32 network inputs (batch, L, L, 1), upscaled for the CNN presets."""
    x = np.asarray(configs, np.float32)[..., None]
    if preset.kind == "cnn" and preset.upscale_to and x.shape[1] != preset.upscale_to:
        x = ising.upscale(x[..., 0], preset.upscale_to)[..., None].astype(np.float32)
    return x


def dataset(preset, configs, labels, batch_size, seed=0):
    """Shuffled training batches; with `preset.augment`, each example is moved by a random
    lattice symmetry every epoch (see `tfphys.data.pipeline.symmetries`)."""
    x = features(preset, configs)
    y = np.asarray(labels, np.int64 if preset.label == "label" else np.float32)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed)
    if preset.augment:
        ds = pipeline.symmetries(ds, x.shape[1] // np.shape(configs)[1],
                                 spin_flip=preset.label != "magnetization", seed=seed)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def build(preset):
    """The preset's network (uncompiled)."""
    if preset.kind == "cnn":
        return cnn.mills_cnn((preset.upscale_to or preset.L,) * 2 + (1,), preset.outputs,
                             padding=preset.padding)
    f, c = preset.focus, preset.context
    return ednn.ednn(ednn.mlp_brain(f, c, outputs=preset.outputs), f, c, padding=preset.padding)


def predict(preset, model, configs, batch_size=1000):
    """Raw network outputs for configurations (batch, L, L): logits or (batch, 1) values."""
    x = features(preset, configs)
    if preset.kind == "ednn":
        ednn.check_input(model, x)
    return model.predict(x, batch_size=batch_size, verbose=0)


def score(preset, out, configs, labels):
    """Evaluation figures of network outputs `out` against labels, in the preset's terms."""
    if preset.label == "label":
        return evaluate.classification(out, labels, preset.outputs)
    result = evaluate.regression(out[:, 0], labels)
    if preset.label == "magnetization":
        result["median_abs_error_per_spin"] = result["median_abs_error"] / configs[0].size
    return result
