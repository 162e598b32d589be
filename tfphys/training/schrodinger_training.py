"""Train the thesis's Schrödinger CNN ("Deep learning and the Schrödinger equation") on a
potential dataset of bin/generate_potentials: plain functions bin/train_schrodinger wraps.

The network is `models.cnn.mills_cnn` with 7 reducing convolutions of 64 filters (3x3, stride
2), two non-reducing ones (4x4, 16) between each pair, dense 1024 and one output; ReLU; MSE on
the label in Hartree. The thesis presets keep its settings (AdaDelta 1e-3, batch 1000, 1000
epochs, 200,000 training potentials of a class); the `_quick` presets are the CPU recipe:
the 256 x 256 potential is averaged 4 x 4 into 64 x 64 inside the model (the wave functions
span tens of grid points, so the physics survives) with 5 reducing convolutions, Adam with
cosine decay, and the eight symmetries of the square (rotations by 90 degrees, reflections:
the grid is symmetric about 0, so energies do not change) drawn afresh every epoch.
Data stream shard by shard through `tfphys.data.pipeline` (bounded memory); figures are the
median and mean absolute error in mHa on the SHA3 test split.
"""

import dataclasses
import json
import math
import time

import numpy as np
import tensorflow as tf

from tfphys.data import pipeline, shards
from tfphys.data.potentials import LABELS
from tfphys.errors import InputError
from tfphys.models import cnn
from tfphys.physics.schrodinger import potentials
from tfphys.training import export, presets
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, claim_outputs, train


@dataclasses.dataclass(frozen=True)
class SchrodingerPreset:
    name: str
    kind: str  # potential class of the dataset: sho, iw, dig, random, or "mixed" (any)
    label: str = "eps0"  # eps0 | eps1 | kinetic
    downsample: int = 1  # average-pool the potential by this factor inside the model
    augment: bool = False  # a random symmetry of the square per example and epoch
    optimizer: str = "adadelta"
    learning_rate: float = 1e-3
    batch_size: int = 1000
    epochs: int = 1000
    decay: str = "constant"
    thesis_mha: float = None  # the thesis's median absolute error on the test set
    description: str = ""


def _presets():
    thesis = [("sho", "sho", "eps0", 1.51), ("iw", "iw", "eps0", 5.04),
              ("dig", "dig", "eps0", 2.70), ("random", "random", "eps0", 1.49), ("dig_eps1", "dig", "eps1", 10.93),
              ("random_kinetic", "random", "kinetic", 2.98), ("mixed", "mixed", "eps0", 5.90)]
    made = [SchrodingerPreset(name, kind, label, thesis_mha=mha, description=f"the thesis: "
                              f"{label} of {kind} potentials (median |error| {mha} mHa)")
            for name, kind, label, mha in thesis]
    quick = dict(downsample=4, augment=True, optimizer="adam", learning_rate=1e-3, batch_size=32,
                 decay="cosine")
    epochs = {"sho": 30, "iw": 60, "dig": 90, "random": 90, "dig_eps1": 90,
              "random_kinetic": 90}  # figures on 4,000 potentials: README benchmarks
    made += [SchrodingerPreset(f"{name}_quick", kind, label, thesis_mha=mha, epochs=epochs[name],
                               description=f"CPU recipe for {label} of {kind}: 64x64 average, "
                               f"symmetries, Adam + cosine, batch 32, {epochs[name]} epochs",
                               **quick)
             for name, kind, label, mha in thesis if name in epochs]
    return {p.name: p for p in made}


PRESETS = _presets()
OVERRIDES = ("downsample", "augment", "optimizer", "learning_rate", "batch_size", "epochs",
             "decay", "label")


def preset_with(name, **overrides):
    return presets.overridden(PRESETS, name, "Schrödinger", **overrides)


def build(preset, size=potentials.SIZE):
    """The CNN for (size, size) potentials, pooled by `preset.downsample` first."""
    if size % preset.downsample:
        raise InputError(f"--downsample {preset.downsample} does not divide the {size}x{size} grid")
    side = size // preset.downsample
    reducing = int(math.log2(side))  # halve down to 2 x 2 (thesis: 7 at 256)
    body = cnn.mills_cnn((side, side, 1), 1, reducing=reducing - 1, reducing_filters=64,
                         name="schrodinger_cnn")
    inputs = tf.keras.Input((size, size, 1), name="potential")
    x = inputs
    if preset.downsample > 1:
        x = tf.keras.layers.AveragePooling2D(preset.downsample, name="average")(x)
    return tf.keras.Model(inputs, body(x), name=f"schrodinger_{preset.name}")


def symmetries(ds, seed):
    """`fit.train`'s transform: a random rotation by k x 90 degrees and reflection of each
    potential (no translations: the grid is not periodic), drawn from (seed, index)."""
    return pipeline.symmetries(ds, spin_flip=False, seed=seed, translate=False)


def _check_dataset(preset, data_dir):
    manifest = shards.read_manifest(data_dir)
    kind = manifest["metadata"].get("kind")
    if kind not in potentials.KINDS:
        raise InputError(f"{data_dir} is not a potential dataset (bin/generate_potentials)")
    if preset.kind != "mixed" and kind != preset.kind:
        raise InputError(f"{data_dir} holds {kind} potentials; preset {preset.name} trains on "
                         f"{preset.kind}: pass --preset {kind} or another --data")
    if preset.label not in LABELS:
        raise InputError(f"unknown label {preset.label!r}; choose one of {LABELS}")
    return manifest["metadata"]


def _examples(preset, data_dirs, split):
    sets = [pipeline.shard_examples(d, preset.label, split, features="potential")
            for d in data_dirs]
    ds = sets[0]
    for other in sets[1:]:
        ds = ds.concatenate(other)
    return ds


def predict(model, examples, batch_size=64):
    """(predicted, true, predicted on the potentials turned by 90 degrees) arrays in Hartree."""
    found = [[], [], []]
    for x, y in examples.batch(batch_size):
        found[0].append(model(x, training=False).numpy()[:, 0])
        found[1].append(y.numpy())
        found[2].append(model(tf.image.rot90(x), training=False).numpy()[:, 0])
    return tuple(np.concatenate(a) for a in found)


def figures(predicted, true, turned):
    """{"median_abs_error_mHa", "mean_abs_error_mHa", "examples"} of predictions (Hartree), and
    the thesis's rotation check: "rotated_median_abs_error_mHa" on the same potentials turned
    by 90 degrees (same energies) and "rotation_change_mHa", the median |f(rot V) - f(V)|."""
    plain, true, turned = (1000 * a for a in (predicted, true, turned))
    errors = np.abs(plain - true)
    return {"median_abs_error_mHa": float(np.median(errors)),
            "mean_abs_error_mHa": float(errors.mean()), "examples": int(len(errors)),
            "rotated_median_abs_error_mHa": float(np.median(np.abs(turned - true))),
            "rotation_change_mHa": float(np.median(np.abs(turned - plain)))}


def evaluate(model, facts, data_dir, split="test"):
    """`figures` of an exported model (its tfphys.json `facts`) on the `split` ("test", "train"
    or None: all) of a potential dataset of any class (the thesis's transfer test: a model of
    one class on another's potentials); returns (figures, (predicted, true) in Hartree)."""
    metadata = shards.read_manifest(data_dir)["metadata"]
    if metadata.get("kind") not in potentials.KINDS:
        raise InputError(f"{data_dir} is not a potential dataset (bin/generate_potentials)")
    if metadata["grid"] != facts["grid"]:
        raise InputError(f"{data_dir} holds {metadata['grid']}x{metadata['grid']} potentials; "
                         f"the model takes {facts['grid']}x{facts['grid']}")
    examples = pipeline.shard_examples(data_dir, facts["label"], split, features="potential")
    found = predict(model, examples)
    return figures(*found), found[:2]


def train_preset(preset, data_dirs, gpus=0, horovod=False, run_dir=None, export_dir=None,
                 seed=0, checkpoint_every=0, verbose=None):
    """Train `preset` on the potential datasets `data_dirs` (one, or several for "mixed") and
    score its test split; returns {"preset", "seconds", "examples", "is_chief"} and on the
    chief {"model", "figures"[, "export"]}."""
    if not data_dirs:
        raise InputError("give --data DIR (bin/generate_potentials --kind KIND --out DIR)")
    if len(data_dirs) > 1 and preset.kind != "mixed":
        raise InputError(f"preset {preset.name} trains on one class: give one --data")
    grids = {_check_dataset(preset, d)["grid"] for d in data_dirs}
    if len(grids) != 1:
        raise InputError(f"the datasets have different grids {sorted(grids)}")
    claim_outputs(run_dir, [export_dir] if export_dir else [])
    dist = Distribution(gpus, horovod)
    tf.keras.utils.set_random_seed(seed)
    data = _examples(preset, data_dirs, "train")
    config = TrainConfig.of(preset, loss="mse", run_dir=run_dir, seed=seed,
                            checkpoint_every=checkpoint_every, shuffle_buffer=4096,
                            verbose=verbose)
    size = grids.pop()
    start = time.perf_counter()
    model, _ = train(lambda: build(preset, size), data, config, dist,
                     transform=symmetries if preset.augment else None)
    result = {"preset": preset, "seconds": time.perf_counter() - start,
              "examples": int(data.cardinality()), "is_chief": dist.is_chief}
    if not dist.is_chief:
        return result
    result.update(model=model, figures=figures(*predict(model, _examples(preset, data_dirs,
                                                                          "test"))))
    if export_dir:
        result["export"] = export.export(model, export_dir, {
            "kind": "schrodinger_cnn", "preset": preset.name, "label": preset.label,
            "units": "Ha", "grid": size, "extent": potentials.EXTENT, "outputs": 1,
            "settings": json.loads(json.dumps(dataclasses.asdict(preset)))})
    return result

