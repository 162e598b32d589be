"""Train a RUGAN on porous graphene sheets (thesis section 4.3) and score what it generates.

The data are the zig-zag encodings of a porous sheet dataset (bin/generate_sheets --kind
porous), streamed through `pipeline.shard_examples`, each conditioned on its cohesive energy
per area in meV / A^2 (every cell of a dataset has one area, so this is the thesis's total
energy normalised by the area) or, as the thesis's second model, per atom in meV / atom,
standardised with the training split's mean and spread.
`models.hexagonal` networks train as `gan.RUGAN` (upscale 1: the noise is lattice-sized)
through `fit.train`, optionally with a label term (a `hexagonal.regressor` fitted to the real
sheets measures the generated ones; not in the thesis). An exported sheet EDNN
(`energy_model`, bin/train_sheets) scores the generated sheets as the thesis did: requested
vs EDNN energy per area at the training size and at 4x the area, and it picks the epoch that
conditions best (the RUGAN paper's model selection) from `select_from` on: early generators
make ragged sheets the EDNN scores too kindly. Without one, training keeps the last epoch and
scores nothing but novelty and the bonded-neighbour shares.
"""

import dataclasses
import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfphys import checks
from tfphys.data import pipeline, shards
from tfphys.errors import InputError
from tfphys.models import gan, hexagonal
from tfphys.physics.atoms import images, labeller, zigzag
from tfphys.training import export, inference, presets, sheet_training
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, claim_outputs, train

LABEL = "cohesive_energy"
QUANTITIES = {"per_area": ("cohesive energy per area", "meV/A^2"),
              "per_atom": ("cohesive energy per atom", "meV/atom")}


@dataclasses.dataclass(frozen=True)
class SheetRuganPreset:
    name: str
    epochs: int
    batch_size: int = 64
    noise_channels: int = 63
    filters: int = 64
    critic_steps: int = 10
    learning_rate: float = 1e-4
    decay: str = "constant"  # both networks' rates; "cosine": to 0 over the run
    quantity: str = "per_area"  # the conditioning label: a key of QUANTITIES
    label_weight: float = 0.0  # > 0: a fitted label regressor steers the generator (not thesis)
    select_from: int = 1  # the kept epoch is one from this on: young generators fool the EDNN
    description: str = ""


PRESETS = {p.name: p for p in [
    SheetRuganPreset("rugan_hexagonal", epochs=1000, select_from=500,
                     description="the thesis: 63 noise + 1 label channels, 10 critic steps, "
                     "Adam 1e-4 (0, 0.9), 1000 epochs (it trained on 32,768 sheets of 24 x 28 "
                     "sites)"),
    SheetRuganPreset("rugan_hexagonal_quick", epochs=40, noise_channels=15, filters=16,
                     critic_steps=5, learning_rate=1e-3, select_from=20, description="CPU-sized"),
    SheetRuganPreset("rugan_hexagonal_quick_regressor", epochs=60, noise_channels=15,
                     filters=16, critic_steps=5, learning_rate=1e-3, label_weight=20.0,
                     select_from=30,
                     description="rugan_hexagonal_quick plus a label regressor fitted to the "
                     "real sheets that measures the generated ones in the generator's loss "
                     "(AC-GAN style, not in the thesis)"),
]}
OVERRIDES = ("epochs", "batch_size", "critic_steps", "learning_rate", "decay", "filters",
             "quantity", "label_weight", "select_from")


def preset_with(name, **overrides):
    preset = presets.overridden(PRESETS, name, "sheet RUGAN", **overrides)
    TrainConfig.of(preset, verbose=0)  # its checks (epochs, select_from) before any data
    return preset


def per(quantity, energy, atoms, area):
    """Cohesive energies `energy` (eV) of sheets of `atoms` atoms on `area` A^2 as the
    conditioning `quantity` (meV / A^2 or meV / atom); numpy or TensorFlow values."""
    if quantity not in QUANTITIES:
        raise InputError(f"unknown quantity {quantity!r}; use {' or '.join(QUANTITIES)}")
    return 1000 * energy / (area if quantity == "per_area" else atoms)


def deviation_key(quantity):
    """The name of the median |requested - made| figure, unit included."""
    return "median_abs_deviation_" + QUANTITIES[quantity][1].replace("/", "_per_").replace("^", "")


def labels(data_dir, quantity="per_area"):
    """(`quantity` in meV per A^2 or per atom, test flag, cell area) of every sheet of a porous
    dataset in stored order; refuses datasets without encodings, with mixed cells or NaN
    energies."""
    manifest = shards.read_manifest(data_dir)
    if "encoding" not in (manifest["fields"] or {}):
        raise InputError(f"{data_dir} holds no zig-zag encodings; make porous sheets with "
                         "bin/generate_sheets --kind porous")
    energy, area, test, atoms = shards.fields(data_dir, [LABEL, "area", "test", "atoms"])
    if not np.allclose(area, area[0], rtol=1e-6):
        raise InputError(f"{data_dir} mixes cells of {np.unique(area.round(3))} A^2; the "
                         "sheet RUGAN trains on one cell size")
    if not np.all(np.isfinite(energy)):
        raise InputError(f"{data_dir} has {np.sum(~np.isfinite(energy))} non-finite energies")
    return per(quantity, energy, atoms, area[0]), test.astype(bool), float(area[0])


def build(preset, seed=0):
    """An untrained sheet RUGAN; with a `label_weight`, a `hexagonal.regressor` fitted to the
    real sheets' labels measures the generated ones in the generator's loss."""
    return gan.RUGAN(hexagonal.generator(preset.noise_channels, 1, preset.filters),
                     hexagonal.critic(1, preset.filters), critic_steps=preset.critic_steps,
                     learning_rate=preset.learning_rate, seed=seed, upscale=1,
                     label_weight=preset.label_weight,
                     regressor_net=hexagonal.regressor(1, preset.filters)
                     if preset.label_weight else None)


def generate(generator, requested, shape, standard, seed=0, batch=64, best_of=1, judge=None):
    """Encodings (n, H, W) in {-1, +1} from `generator` at `requested` labels (`standard` =
    (mean, scale) of its training labels) on an H x W lattice. `best_of` k > 1: k sheets per
    request, each from its own latent, and the one whose energy by `judge` (encodings ->
    energies in the label's quantity, e.g. `judged_by` an EDNN) is closest to the request
    kept; not in the thesis, as `rugan_training.generate`'s best of k by the exact energy."""
    zigzag.check_shape(*shape)
    best_of = checks.integer("best_of", best_of, low=1)
    if best_of > 1 and judge is None:
        raise InputError("best_of > 1 keeps the sheet whose energy is closest to the request: "
                         "give an energy model to judge them")
    candidates = np.repeat(np.asarray(requested, np.float32).reshape(-1), best_of)
    wanted = ((candidates - standard[0]) / standard[1])[:, None]
    made = np.concatenate([np.where(out > 0, 1.0, -1.0).astype(np.float32) for out in
                           gan.sample_batches(generator, wanted, shape, seed, batch)])
    if best_of == 1:
        return made
    miss = np.abs(judge(made) - candidates).reshape(-1, best_of)
    keep = np.where(np.isfinite(miss), miss, np.inf).argmin(axis=1)  # empty sheets: NaN
    return made.reshape(-1, best_of, *shape)[np.arange(len(keep)), keep]


def energies(energy_model, facts, structures, quantity="per_area"):
    """EDNN energy of each sheet (ase.Atoms) as `quantity`; an empty sheet is NaN."""
    return np.array([per(quantity, inference.sheet_energy(energy_model, facts, atoms),
                         len(atoms), images.area(atoms)) if len(atoms) else np.nan
                     for atoms in structures])


def judged_by(energy_model, facts, quantity="per_area"):
    """encodings -> EDNN energies (`quantity`) of the sheets they encode: `generate`'s judge."""
    return lambda encodings: energies(energy_model, facts, map(zigzag.decode, encodings),
                                      quantity)


def calculated(structures, method, quantity="per_area", workers=None):
    """The electronic-structure cohesive energy (`labeller` `method`, on every core) of each
    sheet as `quantity`: the direct check of generated sheets, past the EDNN; empty is NaN."""
    values = iter(labeller.label_many([a for a in structures if len(a)], method, workers))
    return np.array([per(quantity, labeller.cohesive(a, next(values)[0], method), len(a),
                         images.area(a)) if len(a) else np.nan for a in structures])


def lattices(shape):
    """Where generators are scored: the training lattice and twice its sides (4x the area)."""
    return tuple(shape), (2 * shape[0], 2 * shape[1])


def scored(generator, energy_model, facts, requested, shape, standard, seed=0,
           quantity="per_area", best_of=1):
    """The EDNN energy (`quantity`) of each sheet generated at `requested` on a `shape`
    lattice (`best_of`: see `generate`, judged by the same EDNN)."""
    judge = judged_by(energy_model, facts, quantity)
    return judge(generate(generator, requested, shape, standard, seed, best_of=best_of,
                          judge=judge))


def summary(made, requested, quantity="per_area"):
    """{median_abs_deviation_<unit>, correlation, empty, count} of made vs requested energies
    (empty sheets, NaN, left out)."""
    made, requested = np.asarray(made), np.asarray(requested)
    ok = np.isfinite(made)
    return {deviation_key(quantity): float(np.median(np.abs(made[ok] - requested[ok])))
            if ok.any() else float("nan"),
            "correlation": float(np.corrcoef(made[ok], requested[ok])[0, 1])
            if ok.sum() > 2 else float("nan"),
            "empty": int((~ok).sum()), "count": int(len(requested))}


def conditioning(generator, energy_model, facts, requested, shape, standard, seed=0,
                 quantity="per_area"):
    """`summary` of the sheets generated at `requested` on a `shape` lattice, EDNN-scored."""
    return summary(scored(generator, energy_model, facts, requested, shape, standard, seed,
                          quantity), requested, quantity)


def evaluate(generator, facts, data_dir, energy_model, count=256, seed=0, best_of=1):
    """{shape: (`summary`, EDNN energies, requested)} of an exported sheet generator (`facts`
    its tfphys.json) asked for the held-out labels of `data_dir` (its first `count`) at the
    training lattice and at twice its sides, scored by the exported sheet EDNN directory
    `energy_model`: the training run's figures, again, from the exports alone (`best_of`:
    each sheet the best of that many by the same EDNN, see `generate`)."""
    quantity = facts.get("quantity", "per_area")
    label, test, area = labels(data_dir, quantity)
    if not np.isclose(area, facts["area"], rtol=1e-6):
        raise InputError(f"{data_dir} holds {area:.1f} A^2 cells; this generator was trained on "
                         f"{facts['area']:.1f} A^2 cells")
    requested = label[test][:count] if test.any() else label[:count]
    ednn_facts = sheet_training.sheet_facts(energy_model)
    ednn = export.load(energy_model)
    shape, standard = tuple(facts["shape"]), (facts["label_mean"], facts["label_scale"])
    made = {size: scored(generator, ednn, ednn_facts, requested, size, standard, seed, quantity,
                         best_of) for size in lattices(shape)}
    return {size: (summary(e, requested, quantity), e, requested) for size, e in made.items()}


def bonded(encodings):
    """How many atoms of zig-zag `encodings` (n, H, W) have 0, 1, 2 and 3 bonded first
    neighbours (a radius-1 hexagonal sum over the occupied sites: 3 first neighbours and 3
    always-empty hexagon centres). Porous sheets cut from graphene have none below 2; a
    generator that has not learnt clean hole edges leaves dangling atoms, which the
    electronic structure penalises more than a fitted energy model does."""
    atoms = (np.asarray(encodings, np.float32) > 0).astype(np.float32)[..., None]
    neighbours = hexagonal.HexConv2D(  # the centre's weight first (hexagonal.offsets)
        1, 1, use_bias=False, kernel_initializer=tf.constant_initializer([0.0] + [1.0] * 6))
    count = np.rint(neighbours(atoms).numpy()[atoms > 0]).astype(int)
    return np.bincount(count, minlength=4)[:4]


def shares(counts):
    """Counts as shares of their sum (4 decimals)."""
    return (np.asarray(counts) / max(np.sum(counts), 1)).round(4).tolist()


def novelty(generator, requested, data_dir, shape, standard, seed=0):
    """{median_nearest_training_distance, coordination, training_coordination}: over sheets
    generated at `requested`, the median share of the non-masked sites that differ from the
    nearest training encoding (the training split streamed shard by shard), and the shares of
    generated and training atoms with 0-3 bonded neighbours (`bonded`)."""
    free = ~zigzag.mask(*shape)
    sheets = generate(generator, requested, shape, standard, seed)
    made = sheets[:, free]
    nearest, training = np.full(len(made), np.inf), np.zeros(4, int)
    for encodings, _ in pipeline.shard_arrays(data_dir, LABEL, "train", features="encoding"):
        differ = (free.sum() - made @ encodings[:, free].T) / 2
        nearest = np.minimum(nearest, differ.min(axis=1, initial=np.inf))
        training += bonded(encodings)
    return {"median_nearest_training_distance": float(np.median(nearest) / free.sum()),
            "coordination": shares(bonded(sheets)), "training_coordination": shares(training)}


def train_sheet_rugan(preset, data_dir, energy_model=None, gpus=0, horovod=False, run_dir=None,
                      checkpoint_every=0, export_dir=None, seed=0, verbose=None, count=256):
    """Train `preset` on the porous dataset `data_dir`; returns {"model" (the trained
    `gan.RUGAN`), "seconds", "examples", "rank", "is_chief", "best_epoch"} and, on the chief,
    {"figures": {shape: `conditioning`}} at the training lattice and at twice its sides (with
    `energy_model`, an exported sheet EDNN directory), {"novelty"} and {"export"} (the
    generator; the critic beside it as `<export_dir>_critic`, a label regressor as
    `<export_dir>_regressor`). Requested energies: `count`
    held-out (test split) labels."""
    if not data_dir:
        raise InputError("give --data DIR (bin/generate_sheets --kind porous --out DIR)")
    quantity = preset.quantity
    label, test, area = labels(data_dir, quantity)
    model_facts = sheet_training.sheet_facts(energy_model) if energy_model else None
    ednn = export.load(energy_model) if energy_model else None
    dist = Distribution(gpus, horovod)
    networks = ("generator", "critic") + (("regressor",) if preset.label_weight else ())
    exports = {name: export_dir if name == "generator" else f"{export_dir}_{name}"
               for name in networks} if export_dir else {}
    claim_outputs(run_dir, exports.values())
    standard = (float(label[~test].mean()), float(max(label[~test].std(), 1e-3)))
    tf.keras.utils.set_random_seed(seed)
    def standardised(x, y):  # atoms counted from the encoding (+1 where an atom sits)
        value = per(quantity, tf.cast(y, tf.float32),
                    tf.reduce_sum(tf.cast(x > 0, tf.float32)), area)
        return x, tf.reshape((value - standard[0]) / standard[1], [1])
    data = pipeline.shard_examples(data_dir, LABEL, "train", features="encoding").map(
        standardised)
    shape = tuple(shards.read_manifest(data_dir)["fields"]["encoding"]["shape"])
    requested = label[test][:count] if test.any() else label[:count]
    def select(model):  # the RUGAN paper's model selection, on the EDNN's energies
        return conditioning(model.generator, ednn, model_facts, requested[:64], shape,
                            standard, seed, quantity)[deviation_key(quantity)]
    config = TrainConfig.of(preset, run_dir=run_dir, checkpoint_every=checkpoint_every,
                            seed=seed, verbose=verbose)
    if dist.is_chief:
        logging.info("sheet RUGAN %s on %d replica(s): %s", preset.name, dist.replicas, preset)
    start = time.perf_counter()
    model, history = train(lambda: build(preset, seed * 1000 + dist.rank), data, config, dist,
                           select=select if ednn is not None else None)
    result = {"model": model, "seconds": time.perf_counter() - start,
              "examples": int(data.cardinality()), "rank": dist.rank, "is_chief": dist.is_chief,
              "best_epoch": getattr(history, "best_epoch", None)}
    if not dist.is_chief:
        return result
    result["novelty"] = novelty(model.generator, requested, data_dir, shape, standard, seed)
    if ednn is not None:
        result["figures"] = {size: conditioning(model.generator, ednn, model_facts, requested,
                                                size, standard, seed, quantity)
                             for size in lattices(shape)}
    if export_dir:
        facts = {"preset": preset.name, "label": "encoding",
                 "conditioning": ["{} ({})".format(*QUANTITIES[quantity])], "shape": list(shape),
                 "quantity": quantity, "label_mean": standard[0], "label_scale": standard[1],
                 "area": area,
                 "label_range": [float(label[~test].min()), float(label[~test].max())],
                 "noise_channels": preset.noise_channels}
        written = {name: export.export(getattr(model, name), path,
                                       {**facts, "kind": f"sheet_rugan_{name}"})
                   for name, path in exports.items()}
        result["export"] = written["generator"]
    return result
