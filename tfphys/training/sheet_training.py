"""Train EDNNs and the non-EDNN CNN on sheet energies (thesis: "EDNN on DFT", hexagonal sheets
and porous graphene) from a dataset of bin/generate_sheets: plain functions bin/train_sheets
wraps.

The label is the cohesive energy (the labeller's energy minus its free-atom energies, eV), an
extensive quantity; errors are reported as the thesis does, the median |error| of the total
energy per cell area in meV / Angstrom^2 (the free-atom references cancel in the error). The
EDNN cuts the image into focus tiles with context (periodic: the image is of a periodic cell),
runs one brain per tile and sums, so it evaluates cells of any size; its output is scaled by
the training labels' spread and its per-tile bias starts at their mean share, both extensive,
so training starts at the right energy scale. The thesis presets keep its network (f = 64,
c = 32, the 13-convolution brain on 256 x 256); the `_quick` presets are the CPU recipe: the
image averaged 4 x 4 inside the model (0.2 Angstrom pixels, one gamma), f = 16, c = 8 (the
same 16 tiles), Adam with cosine decay (the CNN: the thesis's constant 1e-4, at which it
leaves the label mean), and the exact symmetries of a periodic image (whole-pixel
translations, reflections about the axes) drawn every epoch. On porous cells (64 tiles, a
label spread of ~120 eV that is 99.8 % the atom count) that recipe settles at the label mean:
the untrained brain's outputs, summed over 64 tiles, start ~20 spreads off and Adam's steps
move all tiles at once. `ednn_porous_quick` therefore adds the atomistic models' per-atom
reference (`reference`): a linear path on each tile's pixel sum, fitted by least squares
before training, with the brain's last layer at zero, so the brain learns only the local
remainder (hole edges) from an exact start, at Adam 1e-4 in batches of 8 for 100 epochs and
without the symmetries (with them it stayed at the reference's error for 200 epochs).
`ednn_hexagonal_quick` (graphene and hBN, whose label spread is the material and which V alone
cannot tell apart) gives the brain and the reference the image's first three powers (`moments`:
one reference energy per species) and batch-normalizes the brain's features before its output
(`normalize`): the summed features of the untrained brain share a large common part (their
variation across sheets is ~8 % of it), so without it each Adam step at 1e-4 and above moved
the energy by about the residual's spread, the loss never left the reference's and only 3e-5
trained; centred, 3e-4 trains, to a lower error in as many epochs.
"""

import dataclasses
import json
import os
import time

import numpy as np
import tensorflow as tf

from tfphys.data import pipeline, sheets as sheet_data, shards
from tfphys.errors import InputError
from tfphys.models import cnn, ednn
from tfphys.physics.atoms import labeller
from tfphys.training import export, presets
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, claim_outputs, train

LABEL = "cohesive_energy"


@dataclasses.dataclass(frozen=True)
class SheetPreset:
    name: str
    kind: str  # dataset kind: hexagonal | porous
    model: str  # "ednn" (tiles summed) or "cnn" (the non-EDNN baseline)
    focus: int = 64
    context: int = 32
    downsample: int = 1  # average-pool the image by this factor inside the model
    augment: bool = False  # whole-pixel translations and axis reflections every epoch
    reference: bool = False  # a linear path on each tile's pixel moments, fitted before training
    moments: int = 1  # image channels V, V^2/6, ..., V^K/6^(K-1): K = 3 tells B, C and N apart
    train_reference: bool = False  # let Adam move the fitted reference's weights too
    normalize: bool = False  # batch normalization of the brain's features before its output
    optimizer: str = "adam"
    learning_rate: float = 1e-4
    batch_size: int = 32
    epochs: int = 500
    decay: str = "constant"
    warmup_steps: int = 0  # fine-tuning from --init: see fit.TrainConfig
    thesis_mev: float = None  # the thesis's median |error| in meV / Angstrom^2
    description: str = ""


def _presets():
    thesis = {"hexagonal": {"ednn": 1.122, "cnn": 2.529}, "porous": {"ednn": 1.685}}
    quick = dict(focus=16, context=8, downsample=4, augment=True, epochs=60)
    # the CNN stays at the label mean at Adam 1e-3 + cosine (its ReLUs die in the first
    # steps); the thesis's constant 1e-4 trains it
    steps = {"ednn": dict(learning_rate=1e-3, decay="cosine"),
             "cnn": dict(learning_rate=1e-4, decay="constant")}
    made = []
    for kind, models in thesis.items():
        for model, mev in models.items():
            made.append(SheetPreset(f"{model}_{kind}", kind, model, thesis_mev=mev,
                                    description=f"the thesis: {model} on {kind} sheets, f = 64, "
                                    f"c = 32, 500 epochs ({mev} meV/A^2)"))
            rate = steps[model]
            if (model, kind) == ("ednn", "porous"):  # see the module docstring
                rate = dict(learning_rate=1e-4, decay="cosine", batch_size=8, reference=True,
                            train_reference=True, augment=False, epochs=100)
            if (model, kind) == ("ednn", "hexagonal"):
                rate = dict(learning_rate=3e-4, decay="cosine", batch_size=16, reference=True,
                            moments=3, normalize=True, augment=False, epochs=80)
            settings = {**quick, **rate}
            made.append(SheetPreset(f"{model}_{kind}_quick", kind, model, thesis_mev=mev,
                                    description=f"CPU recipe: {model} on {kind} sheets averaged "
                                    "4x4, f = 16, c = 8, "
                                    + ("symmetries, " if settings["augment"] else "")
                                    + f"Adam {settings['learning_rate']:g} {settings['decay']}"
                                    + (f", reference on {settings.get('moments', 1)} pixel "
                                       "moment(s)" if settings.get("reference") else "")
                                    + (", batch-normalized features" if settings.get("normalize")
                                       else ""),
                                    **settings))
    return {p.name: p for p in made}


PRESETS = _presets()
# what a setting added after an export was made meant then: its default (moments came later)
_ABSENT = {f.name: f.default for f in dataclasses.fields(SheetPreset)}
OVERRIDES = ("focus", "context", "downsample", "augment", "reference", "moments",
             "train_reference", "normalize", "optimizer", "learning_rate", "batch_size", "epochs",
             "decay", "warmup_steps")
MOMENT_SCALE = 6.0  # carbon's Z: the higher moments' peaks stay near the first's


def preset_with(name, **overrides):
    return presets.overridden(PRESETS, name, "sheet", **overrides)


def pooled(fine, downsample, moments=1):
    """(H/d, W/d, moments): the d x d means of V, V^2/6, ..., V^K/6^(K-1) of fine images
    (..., H, W): the model's first layers, for code that feeds "sheet_ednn" directly. Each
    moment of a well-separated Gaussian atom is Z^k times a constant over the pixel area, so on
    one cell K moments summed over the image count the atoms of up to K species (V alone cannot
    tell hBN from graphene: the mean of B's 5 and N's 7 is carbon's 6)."""
    *batch, n1, n2 = fine.shape
    powers = np.stack([fine * (fine / MOMENT_SCALE) ** (k - 1) for k in range(1, moments + 1)],
                      axis=-1)
    d = downsample
    return powers.reshape(*batch, n1 // d, d, n2 // d, d, moments).mean(axis=(-4, -2))


def _pixels(inputs, downsample, moments):
    """The Keras twin of `pooled` on (batch, H, W, 1) images."""
    x = inputs
    if moments > 1:
        powers = [inputs] + [tf.keras.layers.Rescaling(MOMENT_SCALE ** (1 - k))(
            tf.keras.layers.Multiply()([inputs] * k)) for k in range(2, moments + 1)]
        x = tf.keras.layers.Concatenate(name="moments")(powers)
    if downsample > 1:
        x = tf.keras.layers.AveragePooling2D(downsample, name="average")(x)
    return x


def _with_reference(brain, context, weights, trainable):
    """`brain` plus `weights` . the sums of its tile's focus region over each moment channel:
    summed over tiles, a term linear in the image's moment sums (in proportion to its atoms of
    each species), its weights fixed unless `trainable` (each Adam step of ~lr on a weight
    that multiplies a sum of thousands of pixels moves the energy by eV: on the crystalline
    sheets the brain then never left the reference's error; the porous recipe gained from it,
    4.3 against 5.2 meV/A^2 fixed). The brain's last layer starts at zero, so the model starts
    at the fitted reference exactly and learns the remainder."""
    focus = tf.keras.layers.Cropping2D(context, name="reference_focus")(brain.input)
    term = tf.keras.layers.Dense(1, use_bias=False, trainable=trainable, name="reference",
                                 kernel_initializer=tf.keras.initializers.Constant(
                                     np.reshape(weights, (-1, 1))))(
        ednn.SumTiles(name="reference_sum")(focus))
    head = brain.layers[-1]
    head.kernel.assign(tf.zeros_like(head.kernel))
    return tf.keras.Model(brain.input, tf.keras.layers.Add()([brain.output, term]),
                          name=brain.name)


def build(preset, shape, mean, scale, weights=None):
    """The model on (n1, n2) images (EDNN: any multiple of downsample x focus), predicting
    `scale` x its sum, its output starting near `mean` (plus `weights` (eV) . the sums of the
    `pooled` moments with `preset.reference`; None: an unfitted reference of zeros)."""
    d, f, k = preset.downsample, preset.focus, preset.moments
    if preset.model == "ednn":
        for n in shape:
            if n % (d * f):
                raise InputError(f"{shape[0]}x{shape[1]} images are not a multiple of downsample "
                                 f"x focus = {d * f}; use another --focus or --downsample")
        brain = ednn.dft_cnn_brain(f, preset.context, channels=k, normalize=preset.normalize)
        head = brain.layers[-1]
        if preset.reference:
            weights = np.zeros(k) if weights is None else np.asarray(weights)
            brain = _with_reference(brain, preset.context, weights / scale,
                                    preset.train_reference)
        body = ednn.ednn(brain, f, preset.context, channels=k, name="sheet_ednn")
        inputs = tf.keras.Input((None, None, 1), name="image")
        tiles = shape[0] * shape[1] // (d * f) ** 2
    else:
        side = [n // d for n in shape]
        if any(n % d for n in shape) or side[0] != side[1] or side[0] & (side[0] - 1):
            raise InputError(f"the CNN takes square images of a power-of-two side after the "
                             f"{d}x{d} average; got {shape[0]}x{shape[1]}")
        body = cnn.mills_cnn((side[0], side[1], k), 1, reducing=int(np.log2(side[0])) - 1,
                             reducing_filters=64, name="sheet_cnn", initializer="he_normal")
        head, tiles = body.layers[-1], 1
        inputs = tf.keras.Input((*shape, 1), name="image")
    head.bias.assign([mean / (tiles * scale)])
    out = tf.keras.layers.Rescaling(scale, name="energy_scale")(body(_pixels(inputs, d, k)))
    return tf.keras.Model(inputs, out, name=preset.name)


def image_shape(facts, atoms):
    """The image size for `atoms` under an exported sheet model (its tfphys.json `facts`): the
    training spacing, rounded to the nearest multiple of downsample x focus (EDNN; the sheet is
    stretched by at most half a tile) or the training shape (CNN: its input is fixed)."""
    settings = facts["settings"]
    if settings["model"] != "ednn":
        return tuple(facts["shape"])
    step = settings["downsample"] * settings["focus"]
    lengths = np.linalg.norm(np.asarray(atoms.cell)[:2, :2], axis=1)
    return tuple(max(step, int(round(length / facts["spacing"] / step)) * step)
                 for length in lengths)


def energy_map(model):
    """A model giving the EDNN's per-tile energies in eV (batch, H/(d f), W/(d f)): where the
    energy sits in the sheet (they sum to the prediction)."""
    body = model.get_layer("sheet_ednn")
    names = [layer.name for layer in model.layers]
    x = next((model.get_layer(n).output for n in ("average", "moments") if n in names),
             model.input)  # what the body sees
    tiles = ednn.contributions(body)(x)[..., 0]
    return tf.keras.Model(model.input, model.get_layer("energy_scale")(tiles))


def sheet_facts(model_dir):
    """The tfphys.json facts of an exported sheet energy model (InputError for other exports)."""
    facts = export.metadata(model_dir)
    if facts.get("kind") != "sheet_energy":
        raise InputError(f"{model_dir} is not a sheet energy model (bin/train_sheets --export)")
    return facts


def labelling(model_dir, shape):
    """(images (n, *shape) -> cohesive energies in eV, provenance, the METHODS key of what the
    model learnt) of an exported sheet model: labels for more sheets than the electronic
    structure affords (the thesis labelled the 32,768 sheets of its RUGAN with its EDNN)."""
    facts = sheet_facts(model_dir)
    if tuple(facts["shape"]) != tuple(shape):
        raise InputError(f"{model_dir} was trained on {facts['shape'][0]}x{facts['shape'][1]} "
                         f"images, these sheets make {shape[0]}x{shape[1]}: label the kind of "
                         "sheet it learnt")
    method = labeller.key(facts["labeller"]["method"])
    if method is None:
        raise InputError(f"{model_dir} learnt {facts['labeller']['method']} energies, whose "
                         f"free-atom energies tfphys cannot compute; use one trained on "
                         f"{' or '.join(labeller.METHODS.values())} labels")
    model = export.load(model_dir)

    def energy(pictures):
        return model.predict(pictures[..., None], batch_size=16, verbose=0)[:, 0]
    source = {"method": f"sheet model {facts['preset']}", "model": os.path.abspath(model_dir),
              "learnt": facts["labeller"], "units": "eV"}
    return energy, source, method


def _labels(data_dir):
    """(label, area, test flag, cell) arrays of every sheet in stored order, one read."""
    return shards.fields(data_dir, [LABEL, "area", "test", "cell"])


def predict(model, data_dir, split, batch_size=16):
    """(predicted, true) cohesive energies in eV of a split, streamed shard by shard."""
    predicted, true = [], []
    for x, y in pipeline.shard_examples(data_dir, LABEL, split, features="image").batch(
            batch_size):
        predicted.append(model(x, training=False).numpy()[:, 0])
        true.append(y.numpy())
    return np.concatenate(predicted), np.concatenate(true)


def figures(predicted, true, area):
    """Median and mean |error| per area in meV / Angstrom^2 and per cell in eV."""
    errors = np.abs(predicted - true)
    per_area = 1000 * errors / area
    return {"median_abs_error_meV_per_A2": float(np.median(per_area)),
            "mean_abs_error_meV_per_A2": float(per_area.mean()),
            "median_abs_error_eV": float(np.median(errors)), "examples": int(len(errors))}


def _spacings(cells, shape):
    """Pixel sizes in Angstrom of stored sheets' images (cells (n, 3, 3), both cell vectors)."""
    lengths = np.linalg.norm(cells[:, :2, :2], axis=2)
    return (lengths / np.asarray(shape)).ravel()


def reference_fit(data_dir, downsample=1, moments=1):
    """(weights, intercept, residual spread): the least-squares fit of the training split's
    cohesive energy to the sums of its image's `pooled` moments (E = weights . sums +
    intercept, in eV), images streamed. For one species and one moment the pixel sum counts
    atoms, so this is the per-atom reference energy of atomistic models; K moments give one
    reference energy per species for up to K species. The intercept is a per-cell constant
    (one cell area per dataset), spread over the tiles like the mean."""
    sums, labels = [], []
    for x, y in pipeline.shard_examples(data_dir, LABEL, "train", features="image").batch(32):
        sums.append(pooled(x.numpy()[..., 0].astype(np.float64), downsample, moments).sum(
            axis=(1, 2)))
        labels.append(y.numpy())
    sums, labels = np.concatenate(sums), np.concatenate(labels)
    design = np.concatenate([sums, np.ones((len(sums), 1))], axis=1)
    solution, *_ = np.linalg.lstsq(design, labels, rcond=None)
    spread = float(np.std(labels - design @ solution))
    return solution[:-1], float(solution[-1]), max(spread, 1e-3)


def _check_dataset(preset, data_dir):
    manifest = shards.read_manifest(data_dir)
    metadata = manifest["metadata"]
    if metadata.get("kind") not in sheet_data.KINDS or LABEL not in (manifest["fields"] or {}):
        raise InputError(f"{data_dir} is not a sheet dataset with cohesive energies "
                         "(bin/generate_sheets)")
    if metadata["kind"] != preset.kind:
        raise InputError(f"{data_dir} holds {metadata['kind']} sheets; preset {preset.name} "
                         f"trains on {preset.kind}")
    if "image" not in manifest["fields"]:
        raise InputError(f"{data_dir} holds no images (made with --noimages, for the sheet "
                         "RUGAN); remake it without --noimages to train a sheet network on it")
    return metadata


def train_preset(preset, data_dir, gpus=0, horovod=False, run_dir=None, export_dir=None, seed=0,
                 checkpoint_every=0, verbose=None, init=None):
    """Train `preset` on a sheet dataset and score its test split; returns {"preset",
    "seconds", "examples", "is_chief"} and on the chief {"model", "figures"[, "export"]}.
    `init`: a sheet export of the same model, tiling and channels to start from (its fitted
    reference included: training goes on from where it stopped)."""
    if preset.reference and preset.model != "ednn":
        raise InputError("--reference is a per-tile path of the EDNN; the CNN presets have no "
                         "tiles: drop --reference")
    if not data_dir:
        raise InputError("give --data DIR (bin/generate_sheets --kind KIND --out DIR)")
    metadata = _check_dataset(preset, data_dir)
    if init:
        export.check_start(init, "sheet_energy", absent=_ABSENT, **{
            name: getattr(preset, name) for name in (
                "model", "focus", "context", "downsample", "reference", "moments",
                "normalize")})
    claim_outputs(run_dir, [export_dir] if export_dir else [])
    label, area, test, cells = _labels(data_dir)
    if not np.all(np.isfinite(label)):
        raise InputError(f"{data_dir} has {np.sum(~np.isfinite(label))} non-finite energies")
    mean, scale = float(label[~test].mean()), float(max(label[~test].std(), 1e-3))
    weights = None
    if init:  # the export's output scale (its weights, reference included, replace the rest)
        scale = float(export.load(init).get_layer("energy_scale").scale)
    elif preset.reference:
        weights, mean, scale = reference_fit(data_dir, preset.downsample, preset.moments)
    shape = tuple(metadata["shape"])
    dist = Distribution(gpus, horovod)
    tf.keras.utils.set_random_seed(seed)
    data = pipeline.shard_examples(data_dir, LABEL, "train", features="image")
    config = TrainConfig.of(preset, loss="mse", run_dir=run_dir, seed=seed,
                            checkpoint_every=checkpoint_every, shuffle_buffer=4096,
                            verbose=verbose, init=init)

    def transform(ds, transform_seed):
        return pipeline.symmetries(ds, spin_flip=False, seed=transform_seed, rotate=False)

    start = time.perf_counter()
    model, _ = train(lambda: build(preset, shape, mean, scale, weights), data, config, dist,
                     transform=transform if preset.augment else None)
    result = {"preset": preset, "seconds": time.perf_counter() - start,
              "examples": int(data.cardinality()), "is_chief": dist.is_chief}
    if not dist.is_chief:
        return result
    result.update(model=model, figures=figures(*predict(model, data_dir, "test"), area[test]))
    if export_dir:
        result["export"] = export.export(model, export_dir, {
            "kind": "sheet_energy", "preset": preset.name, "label": LABEL, "units": "eV",
            "shape": list(shape), "spacing": float(np.median(_spacings(cells, shape))),
            "labeller": metadata["labeller"],
            "settings": json.loads(json.dumps(dataclasses.asdict(preset)))})
    return result
