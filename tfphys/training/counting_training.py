"""Train the counting EDNN (Mills & Tamblyn, "Weakly-supervised multi-class object localization
using only object counts as labels") on a counting dataset (bin/generate_counting shards, or a
PNG + JSON folder): plain functions bin/train_counting wraps.

The image (0-255) is scaled to 0-1, zero-padded by the context and cut into (f + 2c)^2 tiles at
stride f; the tile CNN (`ednn_sliding.conv_brain`: floor(log2(f + 2c) - 1) valid 4x4 stride-2
convolutions of 64 kernels, dense 1024, one output per class) runs as one sliding pass over the
whole image (equal to explicit tiles, several times faster) and the contributions are summed;
MSE on the counts; Adam 1e-4 until the loss is below 1e-3 (the paper: 100-500 epochs). The
tile-contribution grid is the density map. A test image counts correctly for a class when its
rounded count is exact; an object is localized when the density-map mass of the tiles nearest
to it (within reach) rounds to 1 (`localization`).
"""

import dataclasses
import itertools
import json
import os
import time

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from tfphys.data import collages, pipeline, png_json, scenes, shards
from tfphys.errors import InputError
from tfphys.models import ednn
from tfphys.models.ednn_sliding import conv_brain, sliding, tile_convolutions
from tfphys.training import export, presets
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, claim_outputs, train

THESIS_ACCURACY = {"mnist1": (1.0,), "mnist2": (1.0, 1.0), "mnist10": (0.9808,),
                   "mnist2_occ": (0.8482, 0.8850), "mnist2_occ_vs": (0.5668, 0.5472)}


@dataclasses.dataclass(frozen=True)
class CountingPreset:
    name: str
    focus: int = 8
    context: int = 8
    width: int = 64  # filters of the tile CNN's last convolution: the features its dense layer
    # reads (the paper's 64); an --init export of a smaller width is widened to it
    rotate: bool = False  # a random multiple of 90 degrees per image and epoch
    optimizer: str = "adam"
    learning_rate: float = 1e-4
    batch_size: int = 32
    epochs: int = 500
    decay: str = "constant"
    warmup_steps: int = 0  # fine-tuning from --init: see fit.TrainConfig
    target_loss: float = 1e-3  # stop once the training loss is below (the paper)
    precision: str = "float32"  # or mixed_bfloat16 / mixed_float16 (fit.PRECISIONS): the
    # layers compute in 16 bits, the head, sum, weights and export stay float32
    description: str = ""


def _presets():
    made = [CountingPreset("counting", description="the paper: f = 8, c = 8, Adam 1e-4 until "
                           "the loss is below 1e-3 (at most 500 epochs)"),
            CountingPreset("counting_rgb", context=12, description="the paper's ducks: f = 8, "
                           "c = 12"),
            CountingPreset("counting_quick", learning_rate=1e-3, decay="cosine", epochs=40,
                           description="CPU recipe: Adam 1e-3 with cosine decay, 40 epochs")]
    return {p.name: p for p in made}


PRESETS = _presets()
# Classes that a quarter or half turn maps onto each other: rotating the whole image keeps its
# counts only when no rotated object looks like another class (a 6 turned 180 degrees is a 9).
ROTATION_PAIRS = (("6", "9"),)
OVERRIDES = ("focus", "context", "width", "rotate", "optimizer", "learning_rate", "batch_size",
             "epochs", "decay", "warmup_steps", "target_loss", "precision")


def preset_with(name, **overrides):
    return presets.overridden(PRESETS, name, "counting", **overrides)


def build(preset, channels, classes):
    """The counting EDNN on (H, W, channels) 0-255 images, H and W multiples of the focus."""
    brain = conv_brain(preset.focus, preset.context, channels, classes, width=preset.width)
    body = sliding(ednn.ednn(brain, preset.focus, preset.context, channels, padding="zeros",
                             name="counting_ednn"))
    inputs = tf.keras.Input((None, None, channels), name="image")
    scaled = tf.keras.layers.Rescaling(1 / 255, name="unit_range")(inputs)
    return tf.keras.Model(inputs, body(scaled), name="counting")


def density(model):
    """A model giving the per-tile counts (batch, H/f, W/f, classes): the density map C."""
    body = model.get_layer("counting_ednn_sliding")
    inner = ednn.contributions(body)
    return tf.keras.Model(model.input, inner(model.get_layer("unit_range").output))


def dataset(directory):
    """(examples(split), classes, channels, description) of a counting dataset folder: shards
    of bin/generate_counting or a PNG + JSON folder (`data.png_json`)."""
    if os.path.exists(os.path.join(directory, png_json.LABELS)):
        _, _, _, classes, shape = png_json.read(directory)
        return (lambda split: pipeline.png_examples(directory, split)), classes, shape[2], \
            "PNG + JSON"
    manifest = shards.read_manifest(directory)
    if manifest["metadata"].get("dataset") not in {**collages.DATASETS, **scenes.DATASETS}:
        raise InputError(f"{directory} is not a counting dataset (bin/generate_counting, or a "
                         f"folder with {png_json.LABELS})")
    classes = [str(c) for c in manifest["metadata"]["classes"]]
    shape = manifest["fields"]["image"]["shape"]
    return (lambda split: pipeline.shard_examples(directory, "counts", split,
                                                  features="image")), classes, \
        shape[2] if len(shape) == 3 else 1, manifest["metadata"]["dataset"]


def offsets(focus, shifts):
    """The pixel offsets 0, f / shifts, ... < f of the shift-averaged count; shifts must divide f."""
    if shifts < 1 or focus % shifts:
        raise InputError(f"shifts must divide the focus f = {focus} "
                         f"({', '.join(str(s) for s in range(1, focus + 1) if focus % s == 0)})")
    return range(0, focus, focus // shifts)


def check_averaging(facts, shifts, turns, model_dir):
    """Refuse, before any work, a count average that `count` cannot give for the export whose
    tfphys.json is `facts`: `shifts` must divide its focus, and quarter turns (`turns` = 4) need an
    export trained with them (`--rotate`): otherwise a turn changes its counts (a 6 becomes a 9,
    the scenes' light comes from the upper left)."""
    offsets(facts["focus"], shifts)
    if turns == 4 and not facts.get("settings", {}).get("rotate"):
        raise InputError(f"--turns 4 averages over quarter turns, but {model_dir} was trained "
                         "without --rotate, so a turn changes its counts; use --turns 1")


def count(model, images, focus, shifts=1, batch_size=16, turns=1):
    """Counts (n, classes) of (n, H, W, channels) images of any size, averaged over the shifts^2
    placements of the image at `offsets` on one zero canvas (a multiple of f, the same for every
    offset): the tiling's phase no longer matters (translations by f / shifts leave the count
    unchanged) and each object is seen cut by the tiles shifts^2 ways. shifts = 1 is the plain
    count. `turns` = 4 also averages over the image's four quarter turns (for a model trained
    with random quarter turns, `--rotate`, whose counts they leave unchanged); turns x shifts^2
    forward passes."""
    if turns not in (1, 4):
        raise InputError(f"turns must be 1 (plain) or 4 (the quarter turns), not {turns}")
    moves = offsets(focus, shifts)
    counts = []
    for k in range(0, len(images), batch_size):  # one batch's canvas in memory at a time
        total = 0.0
        for turn, dy, dx in itertools.product(range(turns), moves, moves):
            batch = np.rot90(images[k:k + batch_size], turn, axes=(1, 2))  # a view
            h, w = batch.shape[1:3]
            canvas = [-(-(side + moves[-1]) // focus) * focus for side in (h, w)]
            placed = np.zeros((len(batch), *canvas, images.shape[3]), np.float32)
            placed[:, dy:dy + h, dx:dx + w] = batch
            total += model(placed).numpy()
        counts.append(total / (turns * shifts ** 2))
    return np.concatenate(counts)


def exact(predicted, true):
    """(n, classes) bool: the rounded count equals the true one (the paper's accuracy)."""
    return np.rint(predicted) == true


def figures(predicted, true, classes):
    """Per class: accuracy (rounded count exact) and median |error|; and the mean squared error
    over all classes, the training loss's measure (a test mse far above the last training loss
    means the collages are being memorized: more collages, not more epochs)."""
    hits = exact(predicted, true)
    out = {"examples": int(len(true)), "mse": float(np.mean(np.square(predicted - true)))}
    for k, name in enumerate(classes):
        out[f"accuracy_{name}"] = float(hits[:, k].mean())
        out[f"median_abs_error_{name}"] = float(np.median(np.abs(predicted[:, k] - true[:, k])))
    return out


def accuracy_by_count(predicted, true, classes):
    """Per class, {true count n: share of the images holding n whose rounded count is exact}:
    where the misses are (crowded images or sparse ones)."""
    hits = exact(predicted, true)
    return {name: {int(n): float(hits[true[:, k] == n, k].mean()) for n in np.unique(true[:, k])}
            for k, name in enumerate(classes)}


def localization(grid, objects, focus, reach):
    """(localized, objects) of one image. Every tile of a class's density map `grid`
    (H/f, W/f, classes) goes to the nearest object of that class whose centre is within
    `reach` pixels of the tile's centre (the function `reach` gives it per counting set); an
    object is localized when the mass of its tiles rounds to 1. Mass split between neighbours,
    pulled onto one of them or left on the background does not localize. `objects` (m, 3):
    class, row, col (class -1 pads)."""
    objects = objects[objects[:, 0] >= 0]
    rows, cols = np.meshgrid(*(focus * (np.arange(n) + 0.5) for n in grid.shape[:2]),
                             indexing="ij")
    centres = np.stack([rows.ravel(), cols.ravel()], 1)
    found = 0
    for k in range(grid.shape[-1]):
        mine = objects[objects[:, 0] == k, 1:]
        if not len(mine):
            continue
        distance = np.linalg.norm(centres[:, None, :] - mine[None, :, :], axis=-1)
        nearest = np.argmin(distance, axis=1)
        near = distance[np.arange(len(centres)), nearest] <= reach
        mass = np.bincount(nearest[near], grid[..., k].ravel()[near], minlength=len(mine))
        found += int(np.sum(np.rint(mass) == 1))
    return found, len(objects)


def reach(dataset, focus):
    """`localization`'s reach for a counting set: the largest object's half-size plus half a
    tile; 2 f for digits (half of a 28-pixel digit is 14), the largest radius + f / 2 for the
    scenes (a duck's tiles lie up to its radius from its centre)."""
    return scenes.RADIUS[1] + focus / 2 if dataset in scenes.DATASETS else 2 * focus


def _test_batches(data_dir, examples, batch_size):
    """(images float32 (n, H, W, channels), counts, objects or None) batches of a counting
    dataset's test split (`examples` of `dataset`), read once; objects (n, m, 3) for the shard
    sets of bin/generate_counting, which store the objects' centres."""
    located = not os.path.exists(os.path.join(data_dir, png_json.LABELS)) and \
        "objects" in shards.read_manifest(data_dir)["fields"]
    if not located:
        chunks = ((x.numpy(), y.numpy(), None) for x, y in examples("test").batch(batch_size))
    else:
        chunks = ((x, *labels) for x, labels in pipeline.shard_arrays(
            data_dir, ("counts", "objects"), "test", features="image"))
    for images, counts, objects in chunks:
        for k in range(0, len(images), batch_size):
            batch = images[k:k + batch_size].astype(np.float32)
            yield (batch if batch.ndim == 4 else batch[..., None], counts[k:k + batch_size],
                   None if objects is None else objects[k:k + batch_size])


def score(model, data_dir, focus, shifts=1, turns=1, batch_size=16):
    """`figures` of a counting dataset's test split, counted as `count` does (`shifts`, `turns`
    averages), and for shard datasets of bin/generate_counting, which store the objects'
    centres, the share of objects that `localization` finds ("localized"). One pass: where the
    density map is drawn anyway and the count is plain, the map's sum is the count."""
    examples, classes, _, described = dataset(data_dir)
    maps, distance = density(model), reach(described, focus)
    predicted, true, located = [], [], []
    batches = _test_batches(data_dir, examples, batch_size)
    for images, counts, objects in tqdm(batches, desc="score", unit="batch", leave=False,
                                        disable=None):
        true.append(counts)
        if objects is None:
            predicted.append(count(model, images, focus, shifts, batch_size, turns))
            continue
        grids = maps(images).numpy()
        located += [localization(grid, placed, focus, distance)
                    for grid, placed in zip(grids, objects)]
        predicted.append(grids.sum((1, 2)) if shifts == turns == 1 else
                         count(model, images, focus, shifts, batch_size, turns))
    if not true:
        raise InputError(f"{data_dir} has no test examples to score")
    out = figures(np.concatenate(predicted), np.concatenate(true), classes)
    if located:  # (localized, objects) per image
        found, total = np.sum(located, axis=0)
        out["localized"] = float(found / max(total, 1))
    return out


def _grows(init, preset, classes):
    """Whether the counting export `init` must grow to start this preset (Net2Net, fit.start_from):
    a wider last convolution, or a context larger by a multiple of the tile CNN's total stride
    (its dense layer then reads a window of features around the old one, with zero weights
    first). Refuses an export of another focus or classes, or less width or context."""
    facts = export.check_start(init, "counting_ednn", focus=preset.focus)
    if facts["classes"] != classes:
        raise InputError(f"--init {init} counts other classes than this dataset's {classes}")
    settings = facts.get("settings", {})
    width = settings.get("width", CountingPreset.width)
    if preset.width < width:
        raise InputError(f"--init {init} has width {width}; --width {preset.width} would "
                         f"drop its features: pass --width {width} or more")
    context = settings["context"]
    convs = [tile_convolutions(preset.focus, c) for c in (context, preset.context)]
    stride = 2 ** convs[0]
    if convs[0] != convs[1] or preset.context < context or (preset.context - context) % stride:
        grown = context + stride  # the first larger context, if it keeps the convolutions
        needs = tile_convolutions(preset.focus, grown)
        example = (f"e.g. {grown}" if needs == convs[0] else
                   f"only {context} does: at {grown} the tile needs {needs}")
        raise InputError(f"--init {init} has context {context}; --context {preset.context} must "
                         f"be that plus a multiple of its tile CNN's stride {stride} that keeps "
                         f"its {convs[0]} convolutions ({example})")
    return preset.width > width or preset.context > context


def train_preset(preset, data_dir, gpus=0, horovod=False, run_dir=None, export_dir=None, seed=0,
                 checkpoint_every=0, verbose=None, init=None):
    """Train `preset` on a counting dataset and score its test split; returns {"preset",
    "seconds", "examples", "is_chief", "classes"} and on the chief {"model", "figures"
    [, "export"]}. `init`: a counting export to start from (fine-tuning, e.g. at 256 x 256
    after training on 128 x 128 collages); its focus must be the preset's (`_grows`)."""
    if not data_dir:
        raise InputError("give --data DIR (bin/generate_counting --out DIR, or PNG + JSON)")
    examples, classes, channels, described = dataset(data_dir)
    for pair in ROTATION_PAIRS:
        if preset.rotate and set(pair) <= set(classes):
            raise InputError(f"--rotate turns a {pair[0]} into a {pair[1]} (180 degrees) and "
                             f"{data_dir} counts both; train without --rotate")
    widens = bool(init) and _grows(init, preset, classes)
    claim_outputs(run_dir, [export_dir] if export_dir else [])
    dist = Distribution(gpus, horovod)
    tf.keras.utils.set_random_seed(seed)
    data = examples("train")
    config = TrainConfig.of(preset, loss="mse", run_dir=run_dir, seed=seed,
                            checkpoint_every=checkpoint_every, shuffle_buffer=4096,
                            target=("loss", preset.target_loss) if preset.target_loss else None,
                            verbose=verbose, init=init, init_widens=widens)

    def rotations(ds, transform_seed):
        return pipeline.symmetries(ds, spin_flip=False, seed=transform_seed, translate=False,
                                   reflect=False)

    start = time.perf_counter()
    model, history = train(lambda: build(preset, channels, len(classes)), data, config, dist,
                           transform=rotations if preset.rotate else None)
    result = {"preset": preset, "seconds": time.perf_counter() - start, "classes": classes,
              "examples": int(data.cardinality()), "is_chief": dist.is_chief,
              "epochs": len(history.epoch) if history else 0}
    if not dist.is_chief:
        return result
    result.update(model=model, figures=score(model, data_dir, preset.focus))
    if export_dir:
        result["export"] = export.export(model, export_dir, {
            "kind": "counting_ednn", "preset": preset.name, "classes": classes,
            "channels": channels, "dataset": described, "focus": preset.focus,
            "settings": json.loads(json.dumps(dataclasses.asdict(preset)))})
    return result
