"""A preset turned into data, a model and figures: what bin/train_* and bin/evaluate share.

Data come from a shard directory (streamed through `tfphys.data.pipeline`, its SHA3 split) or
are generated with the preset's sampler. Generated sets are drawn in rounds until they hold
exactly the requested number of examples of their split (the SHA3 split decides which side a
configuration is on, so no test configuration is ever trained on); test sets are generated and
scored chunk by chunk, so evaluation memory does not grow with the lattice size.

Exports and datasets carry their facts (what a model predicts, what a dataset holds), and
`check_model` / `check_dataset` compare them with the preset before anything runs.
"""

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from tfphys import checks, resources
from tfphys.data import pipeline, shards, spins
from tfphys.errors import InputError
from tfphys.models import cnn, ednn
from tfphys.training.spins import evaluate

UNITS = {"energy": "J", "magnetization": "spin sum", "label": "energy class"}
TILED = 1 << 16  # EDNN tiles per lattice above which inference goes slab by slab


def source(preset, L=None):
    return spins.SpinSource(preset.model, L or preset.L)


def facts(preset):
    """What an export of `preset`'s network is (stored in its tfphys.json)."""
    return {"kind": preset.kind, "preset": preset.name, "model": preset.model, "L": preset.L,
            "label": preset.label, "units": UNITS[preset.label], "focus": preset.focus,
            "context": preset.context, "padding": preset.padding}


def check_model(preset, facts_, path):
    """InputError unless the export described by `facts_` predicts what `preset` scores."""
    for key in ("kind", "label", "model"):
        if key in facts_ and facts_[key] != getattr(preset, key):
            raise InputError(f"the model at {path} is a {facts_.get('kind')} predicting "
                             f"{facts_.get('label')} (preset {facts_.get('preset')}), but preset "
                             f"{preset.name} is a {preset.kind} predicting {preset.label}: pass "
                             f"--preset {facts_.get('preset')} or another model")
    if facts_.get("outputs", preset.outputs) != preset.outputs:
        raise InputError(f"the model at {path} has {facts_['outputs']} outputs, preset "
                         f"{preset.name} expects {preset.outputs}")


def check_size(preset, L, count=1, tiled=False):
    """Refuse up front a network or a batch of `count` L x L lattices that cannot fit in memory;
    returns the estimated bytes per lattice. `tiled`: EDNN inference (`predict`), whose tiles
    go through the brain a bounded number at a time; otherwise a training batch, which holds
    every tile at once."""
    side = preset.upscale_to if preset.kind == "cnn" and preset.upscale_to else L
    if preset.kind == "ednn":
        f, c = preset.focus, preset.context
        if L % f:
            raise InputError(f"L={L} is not a multiple of the EDNN focus {f}")
        if preset.padding == "periodic" and c > L:
            raise InputError(f"context {c} is wider than the {L}x{L} lattice it wraps around; "
                             f"use --context <= {L}")
        first_layer = (f + 2 * c) ** 2 * 32 * (f + 2 * c) ** 2  # weights of the MLP's first layer
        resources.check_fits(first_layer * 16, f"the EDNN brain for f={f}, c={c} (weights, "
                             "gradients and Adam slots)", "use a smaller --context")
    per = L * L * 9 + side * side * 4  # int8 spins + float64 labels work + float32 inputs
    if preset.kind == "ednn" and tiled:  # the padded copy predict_tiled cuts its slabs from
        per += (L + 2 * preset.context) ** 2 * 4
    elif preset.kind == "ednn":  # the tiles of (f + 2c)^2 pixels the brain sees, float32
        per += (L // preset.focus) ** 2 * (preset.focus + 2 * preset.context) ** 2 * 4
    resources.check_fits(per * max(1, count), f"{count} {L}x{L} lattice(s) of {preset.name}",
                         "use a smaller L or count")
    return per


def draws(preset, split, seed=0, count=None, L=None, sampler=None, **sampler_args):
    """Chunks (spins, labels) of generated configurations of one SHA3 `split`, `count` in all
    (default: the preset's size for that split), each chunk within the working memory budget.
    The test split holds every configuration once: a flat histogram files copies at levels of
    few configurations, and all copies of a test-side one (8x8 Ising: a Neel state) would
    otherwise land in it (3,810 of 50,000)."""
    L = L or preset.L
    want = count or (preset.train_examples if split == "train" else preset.test_examples)
    chunk = resources.chunk_size(check_size(preset, L, tiled=True))
    kind = sampler or preset.sampler
    fraction = 0.1 if split == "test" else 0.9
    have, round_, seen = 0, 0, set()
    while have < want:
        draw = min(chunk, int((want - have) / fraction * 1.1) + 16)
        data = spins.generate(source(preset, L), kind, draw, seed=[seed, split == "test", round_],
                              **sampler_args)
        keep = np.flatnonzero(data["test"] == (split == "test"))
        if split == "test":
            keep = [k for k in keep if _new(data["spins"][k], seen)]
        keep = np.asarray(keep, np.int64)[:want - have]
        have += len(keep)
        round_ += 1
        if len(keep):
            yield data["spins"][keep], data[preset.label][keep]
        elif round_ > 100:
            raise InputError(f"the {kind} sampler gave no {split} configuration of {L}x{L} in 100 "
                             "rounds; use another sampler")


def _new(config, seen):
    """Whether `config` is not in `seen` (configuration bytes), adding it."""
    key = config.tobytes()
    fresh = key not in seen
    seen.add(key)
    return fresh


# Metropolis temperatures (kT / |J|) of the Boltzmann test sets: ordered to disordered
THERMAL_TEMPERATURES = {"ising": (1.5, 2.27, 3.0, 5.0, 10.0, 50.0),
                        "screened_coulomb": (0.2, 0.4, 0.7, 1.5, 5.0, 50.0),
                        "sinusoidal": (0.2, 0.4, 0.7, 1.5, 5.0, 50.0),
                        "potts": (0.2, 0.5, 1.0, 2.0, 5.0, 50.0)}


def boltzmann_draws(preset, count, seed=0, t_corr=10):
    """Chunks (configs, labels) of a Boltzmann test set: `count` configurations from Metropolis
    at each of `THERMAL_TEMPERATURES[preset.model]` with both signs of J (ferro- and
    antiferromagnetic, so high energies appear too), labelled with the preset's Hamiltonian.
    A distribution check next to the SHA3 test split: thermal configurations are not split,
    so the ordered ones may also be in a training set."""
    temperatures = THERMAL_TEMPERATURES[preset.model]
    runs = [(T, sign) for T in temperatures for sign in (1.0, -1.0)]
    exact = source(preset)
    for k, (T, sign) in enumerate(runs):
        n = count // len(runs) + (k < count % len(runs))
        if n:
            sampler = spins.SpinSource(preset.model, preset.L, J=sign * exact.J,
                                       screening=exact.screening)
            configs = spins.generate(sampler, "thermal", n, seed=[seed, k], temperature=T,
                                     t_corr=t_corr, n_equilibrate=500)["spins"]
            yield configs, exact.labels(configs)[preset.label]


def examples(preset, split, seed=0, count=None, L=None, sampler=None, **sampler_args):
    """(spins, labels) numpy arrays of one split ('train', 'test' or 'all' = whole 4x4 space)."""
    if split == "all":
        data = spins.generate(source(preset, L), "all", 1)
        return data["spins"], data[preset.label]
    parts = list(draws(preset, split, seed, count, L, sampler, **sampler_args))
    return tuple(np.concatenate(p) for p in zip(*parts))


def check_dataset(preset, directory, L=None):
    """InputError unless the dataset at `directory` holds L x L configurations (default: the
    preset's L) of the preset's model with its label; returns a per-shard check of the values."""
    L = L or preset.L
    manifest = shards.read_manifest(directory)
    made = manifest.get("metadata") or {}
    shape = (manifest.get("fields") or {}).get("spins", {}).get("shape")
    if made.get("model", "ising") != preset.model or (shape and list(shape) != [L, L]):
        raise InputError(f"{directory} holds {made.get('model', '?')} configurations of shape "
                         f"{shape}; preset {preset.name} needs {preset.model} {L}x{L}: generate "
                         f"them with bin/generate_spins --model {preset.model} --L {L}")

    def spins_are_binary(data, path):
        if not source(preset).continuous:
            checks.spins(f"the spins of {path}", data["spins"])
        if preset.label == "label" and (np.any(data["label"] < 0)
                                        or np.any(data["label"] >= preset.outputs)):
            raise InputError(f"{path} has energy classes outside 0..{preset.outputs - 1}, the "
                             f"classes of preset {preset.name}")
    return spins_are_binary


def shard_chunks(preset, directory, split, L=None):
    """(spins, labels) chunks of one split of a checked shard directory, a shard at a time."""
    return pipeline.shard_arrays(directory, preset.label, split,
                                 check=check_dataset(preset, directory, L))


def shard_examples(preset, directory, split):
    """Unbatched (features, label) examples of one split of a shard directory, streamed."""
    return pipeline.shard_examples(directory, preset.label, split, check=check_dataset(preset, directory),
                                   upscale_to=preset.upscale_to if preset.kind == "cnn" else None)


def features(preset, configs):
    """Float32 network inputs (batch, L, L, 1) (spins, or Potts angles), upscaled for the CNN
    presets."""
    x = np.asarray(configs, np.float32)[..., None]
    if preset.kind == "cnn" and preset.upscale_to and x.shape[1] != preset.upscale_to:
        x = pipeline.upscale(x, preset.upscale_to).numpy()
    return x


def label_array(preset, labels):
    return np.asarray(labels, np.int64 if preset.label == "label" else np.float32)


def augmentation(preset, L):
    """`fit.train`'s transform for the preset: random lattice symmetries, or None."""
    if not preset.augment:
        return None
    block = (preset.upscale_to or L) // L if preset.kind == "cnn" else 1
    flip = preset.label != "magnetization"
    centre = np.pi / 2 if source(preset).continuous else 0.0  # Potts: s -> pi - s
    return lambda ds, seed: pipeline.symmetries(ds, block, spin_flip=flip, seed=seed,
                                                flip_centre=centre)


def dataset(preset, configs, labels):
    """Unbatched training examples (features, label) for `fit.train`."""
    if np.any(~np.isfinite(np.asarray(labels, np.float64))):
        raise InputError("the training labels hold NaN or infinite values; regenerate the data")
    return tf.data.Dataset.from_tensor_slices((features(preset, configs), label_array(preset, labels)))


def build(preset):
    """The preset's network (uncompiled)."""
    if preset.kind == "cnn":
        return cnn.mills_cnn((preset.upscale_to or preset.L,) * 2 + (1,), preset.outputs,
                             padding=preset.padding)
    f, c = preset.focus, preset.context
    return ednn.ednn(ednn.mlp_brain(f, c, outputs=preset.outputs), f, c, padding=preset.padding)


def predict(preset, model, configs, batch_size=None):
    """Raw network outputs for configurations (batch, L, L): logits or (batch, 1) values."""
    x = features(preset, configs)
    if preset.kind == "ednn":
        ednn.check_input(model, x)
        if x[0].size // preset.focus ** 2 > TILED:  # large lattices: bounded-memory tiles
            return ednn.predict_tiled(model, x, max_tiles=TILED)
    elif tuple(model.input_shape[1:3]) != x.shape[1:3]:
        raise InputError(f"the model takes {model.input_shape[1]}x{model.input_shape[2]} inputs, "
                         f"got {x.shape[1]}x{x.shape[2]}")
    batch = batch_size or resources.chunk_size(x[0].size * 4 * 64, budget=1 << 28)
    return model.predict(x, batch_size=batch, verbose=0)


def score(preset, out, configs_or_sites, labels):
    """Evaluation figures of network outputs `out` against labels, in the preset's terms.
    `configs_or_sites`: the configurations, or the number of spins per configuration."""
    if preset.label == "label":
        return evaluate.classification(out, labels, preset.outputs)
    result = evaluate.regression(out[:, 0], labels)
    if preset.label == "magnetization":
        sites = (configs_or_sites if np.isscalar(configs_or_sites)
                 else np.asarray(configs_or_sites)[0].size)
        result["median_abs_error_per_spin"] = result["median_abs_error"] / sites
    return result


def score_chunks(preset, model, chunks, total=None):
    """Figures over (configs, labels) chunks, predicted one chunk at a time (a progress bar
    counts the `total` examples expected, on a terminal); returns (figures, outputs, labels, L) with only
    outputs and labels kept (not the lattices)."""
    outs, labels, L = [], [], None
    with tqdm(total=total, unit="config", desc="score", leave=False, disable=None) as bar:
        for configs, chunk_labels in chunks:
            L = configs.shape[1]
            outs.append(predict(preset, model, configs))
            labels.append(np.asarray(chunk_labels))
            bar.update(len(configs))
    if not outs:
        raise InputError("no test examples to score; check the data directory or counts")
    out, labels = np.concatenate(outs), np.concatenate(labels)
    return score(preset, out, L * L, labels), out, labels, L
