"""Train a RUGAN on Ising configurations labelled by (E/N, m) and measure its conditioning.

`train_rugan(preset, ...)` draws the training set by targeted sampling (a flat energy
histogram, so every energy is requested during training), trains `models.gan.RUGAN` through
`fit.train` on the requested placement, then asks the generator for the labels of held-out
(SHA3 test) configurations at the training size and at `upscale` times the linear size, and
scores what it made with the exact Ising Hamiltonian: median |E_gen/N - E_req/N| and
|m_gen - m_req|. Generated lattices are the signs of the tanh output.
"""

import dataclasses
import os
import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfphys import checks
from tfphys.data import pipeline
from tfphys.errors import InputError
from tfphys.models import gan
from tfphys.physics.spins import ising
from tfphys.training import export, presets
from tfphys.training.spins import run
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, claim_outputs, start_from, train


@dataclasses.dataclass(frozen=True)
class RuganPreset:
    name: str
    L: int
    train_examples: int
    test_examples: int = 256
    epochs: int = 2000
    batch_size: int = 64
    latent_channels: int = 32
    filters: int = 64
    critic_steps: int = 10
    label_weight: float = 0.0  # > 0: a label term steers the generator (not the thesis)
    label_measure: str = "regressor"  # what the label term measures generated lattices with
    learning_rate: float = 1e-4
    upscale: int = 4  # also generate at upscale * L
    augment: bool = False  # lattice symmetries and the spin flip (E/N, m) -> (E/N, -m), each epoch
    region: str = None  # train only on labels inside this REGIONS entry (thesis Fig. 6)
    average: float = 0.0  # the generator's weight average's momentum (0: none, the thesis)
    reach: int = 0  # dilated residual blocks at the generator's latent scale (0: the thesis)
    description: str = ""

    def __post_init__(self):
        if self.L < 4 or self.L % 4:
            raise InputError(f"--L {self.L}: the generator makes lattices of 4x its latent "
                             "side; give a multiple of 4")
        checks.generator_average(self.average)
        if not 0 <= self.reach <= 8:
            raise InputError(f"--reach {self.reach}: give 0 (the thesis's generator) to 8 "
                             "dilated blocks (3 already see a 64 x 64 lattice whole)")
        if self.label_measure not in LABEL_MEASURES:
            raise InputError(f"--label_measure {self.label_measure}: choose one of "
                             f"{sorted(LABEL_MEASURES)}")

    @property
    def label_term(self):
        """What the generator's label term measures with ("regressor": fitted and exported
        beside the generator; "exact"), or None without one."""
        return self.label_measure if self.label_weight else None


LABEL_MEASURES = {"regressor": "a network fitted to the labels of the real lattices (AC-GAN)",
                  "exact": "the exact Ising Hamiltonian (E/N, m) of the generated lattice"}


REGIONS = {"fig6": "high and low energies near m = 0: |m| <= 0.25 and (E/N <= -1 or E/N >= 0)"}


def in_region(region, labels):
    """Which (E/N, m) rows of `labels` lie inside `region` (a REGIONS name)."""
    if region not in REGIONS:
        raise InputError(f"unknown label region {region!r}; choose one of {sorted(REGIONS)}")
    energy, magnetization = labels[:, 0], labels[:, 1]
    return (np.abs(magnetization) <= 0.25) & ((energy <= -1) | (energy >= 0))


def physical(energy, magnetization):
    """Whether (E/N, m) can be reached by an Ising configuration on a large torus: E/N >= -2
    (all bonds satisfied) and E/N <= 2 - 4|m| (a checkerboard with |m| N / 2 spins turned,
    each removing 4 unsatisfied bonds)."""
    return (energy >= -2) & (energy <= 2 - 4 * np.abs(magnetization)) & (np.abs(magnetization) <= 1)


PRESETS = {p.name: p for p in [
    RuganPreset("rugan_ising64", L=64, train_examples=100000, description="the thesis: L = 64, "
                "generated at 64 and 256 (2000 epochs; channel counts are ours, the thesis "
                "points to its code for them)"),
    RuganPreset("rugan_quick", L=16, train_examples=4096, epochs=20, filters=16,
                latent_channels=8, critic_steps=5, learning_rate=1e-3,
                description="CPU-sized: L = 16, generated at 16 and 64"),
    RuganPreset("rugan_quick_regions", L=16, train_examples=4096, epochs=20, filters=16,
                latent_channels=8, critic_steps=5, learning_rate=1e-3, region="fig6",
                description="rugan_quick trained only on labels of the thesis's Fig. 6 regions "
                "(" + REGIONS["fig6"] + "); the error map shows what it makes elsewhere"),
    RuganPreset("rugan_quick_augmented", L=16, train_examples=8192, epochs=40, filters=16,
                latent_channels=8, critic_steps=5, learning_rate=1e-3, augment=True,
                description="rugan_quick with twice the data and epochs and every training "
                "configuration moved by a random lattice symmetry and spin flip each epoch"),
    RuganPreset("rugan_quick_regressor", L=16, train_examples=4096, epochs=20, filters=16,
                latent_channels=8, critic_steps=5, learning_rate=1e-3, label_weight=20.0,
                description="rugan_quick plus a label regressor fitted to the real lattices "
                "whose error on the generated ones joins the generator's loss, weight 20 "
                "(AC-GAN style, not in the thesis)"),
    RuganPreset("rugan_quick_exact", L=16, train_examples=4096, epochs=20, filters=16,
                latent_channels=8, critic_steps=5, learning_rate=1e-3, label_weight=20.0,
                label_measure="exact",
                description="rugan_quick plus the exact (E/N, m) error of the generated lattices "
                "in the generator's loss, weight 20 (physics-informed, not in the thesis)"),
]}
OVERRIDES = ("L", "train_examples", "test_examples", "epochs", "batch_size", "critic_steps",
             "label_weight", "label_measure", "learning_rate", "filters", "augment", "region",
             "average", "reach")


def preset_with(name, **overrides):
    return presets.overridden(PRESETS, name, "RUGAN", **overrides)


def exported_preset(facts, **overrides):
    """The preset a generator export (its tfphys.json `facts`) was trained with: its named preset
    at the export's L and region (a run may have overridden both), then `overrides`."""
    return preset_with(facts["preset"], **{"L": facts["L"], "region": facts.get("region"),
                                           "reach": facts.get("reach", 0), **overrides})


def network_exports(export_dir, preset):
    """{network: export folder} of a run of `preset`: the generator at `export_dir`, the critic
    at `export_dir`_critic and, with a label regressor, the regressor at `export_dir`_regressor
    (each exported as kind rugan_<network>)."""
    paths = {"generator": export_dir, "critic": f"{export_dir}_critic"}
    if preset.label_term == "regressor":
        paths["regressor"] = f"{export_dir}_regressor"
    return paths


def _spin_preset(preset):
    """The spin-data view of a RUGAN preset (lattice, sampler, sizes) for `run`'s samplers."""
    return dataclasses.replace(presets.get("ednn_quick"), name=preset.name, L=preset.L,
                               train_examples=preset.train_examples,
                               test_examples=preset.test_examples)


def labelled(preset, split, seed):
    """(spins (n, L, L) int8, labels (n, 2) float32 = (E/N, m)) of one SHA3 split; with a
    `region`, the training split holds only configurations whose labels lie inside it."""
    if preset.region is None or split != "train":
        spins, energy = run.examples(_spin_preset(preset), split, seed)
        labels = ising.per_spin(spins, energy).astype(np.float32)
        if preset.region is None:
            return spins, labels
        keep = in_region(preset.region, labels)  # held-out labels inside, as many as fall there
        return spins[keep], labels[keep]
    for factor in (2, 4, 8, 16, 32):
        spins, energy = run.examples(_spin_preset(preset), split, seed,
                                     count=factor * preset.train_examples)
        labels = ising.per_spin(spins, energy).astype(np.float32)
        keep = np.flatnonzero(in_region(preset.region, labels))[:preset.train_examples]
        if len(keep) == preset.train_examples:
            return spins[keep], labels[keep]
    raise InputError(f"targeted sampling found only {len(keep)} of {preset.train_examples} "
                     f"configurations inside region {preset.region}; ask for fewer")


def build(preset, seed=0):
    """An untrained RUGAN for `preset` (seed: the stream of its latents and dropout masks)."""
    term = preset.label_term
    regressor = gan.regressor(2, preset.filters) if term == "regressor" else None
    return gan.RUGAN(gan.generator(preset.latent_channels, 2, preset.filters, preset.reach),
                     gan.critic(2, preset.filters),
                     critic_steps=preset.critic_steps, learning_rate=preset.learning_rate,
                     seed=seed, label_weight=preset.label_weight,
                     regressor_net=regressor, average=preset.average,
                     label_function=gan.ising_labels if term == "exact" else None)


def generate(generator, labels, L, seed=0, batch=64, best_of=1, corrections=0):
    """+-1 lattices (n, L, L) int8 from `generator` at the requested (E/N, m) `labels`.

    A fully convolutional generator's energy fluctuates as a canonical sample's does (its
    latents are local), so each lattice misses its request by about a canonical spread. Two
    ways to narrow that with the exact Hamiltonian (O(N) per lattice), neither copying a
    lattice:
    `corrections` c > 0: the lattice is made c more times from the same latent, the label
    given to the generator moved each time by what the last lattice missed (exact E/N and m of
    its signs): a fixed-point iteration on the label, which works because for one latent the
    generator's output moves smoothly, nearly one for one, with the label it is given. Costs
    c + 1 passes; nothing is discarded.
    `best_of` k > 1: k lattices (each corrected c times) are made per label and the one whose
    exact (E/N, m) lies closest to the request (|dE/N| + |dm|) is kept: a selection, k passes.
    """
    if L % 4:
        raise InputError(f"the generator makes lattices of 4l x 4l sites; L={L} is not a "
                         f"multiple of 4 (try {4 * max(1, L // 4)} or {4 * (L // 4 + 1)})")
    best_of = checks.integer("best_of", best_of, low=1)
    corrections = checks.integer("corrections", corrections, low=0)
    labels = np.asarray(labels, np.float32)
    candidates = np.repeat(labels, best_of, axis=0)
    batches = gan.sample_batches(generator, candidates, (L // 4, L // 4), seed, batch,
                                 measure=lambda out: ising.per_spin(signs(out)),
                                 corrections=corrections)
    spins = np.concatenate([signs(out) for out in batches])
    if best_of == 1:
        return spins
    miss = np.abs(ising.per_spin(spins) - candidates).sum(axis=1).reshape(len(labels), best_of)
    return spins.reshape(len(labels), best_of, L, L)[np.arange(len(labels)), miss.argmin(axis=1)]


def signs(out):
    """+-1 int8 lattices from a generator's tanh output (0 counts as +1)."""
    return np.where(out >= 0, 1, -1).astype(np.int8)


def conditioning(generator, labels, L, seed=0, best_of=1, corrections=0):
    """{median_energy_error, median_magnetization_error, count} of generated lattices: the
    exact E/N and m of each against the label it was asked for (`best_of`, `corrections`: see
    `generate`)."""
    spins = generate(generator, labels, L, seed, best_of=best_of, corrections=corrections)
    err = np.abs(ising.per_spin(spins) - labels)
    return {"median_energy_error": float(np.median(err[:, 0])),
            "median_magnetization_error": float(np.median(err[:, 1])), "count": len(labels)}


def miss_decomposition(generator, labels, L, draws=16, seed=0):
    """Where a generator's miss comes from: `draws` lattices per requested (E/N, m) `labels`,
    scored exactly. Returns {"bias": (n, 2) mean miss per label, "spread": (n, 2) standard
    deviation of the miss within each label, "unbiased_energy_error",
    "unbiased_magnetization_error": the median |miss - bias|, what the generator would score
    without its per-label bias; from few draws a little low, as the bias is their own mean}.
    A spread near the canonical one (`ising.canonical_spread`) says the generator's freedom
    within a label is thermal; a bias confined to some labels, what it cannot make there."""
    draws = checks.integer("draws", draws, low=2)
    labels = np.asarray(labels, np.float32)
    spins = generate(generator, np.repeat(labels, draws, axis=0), L, seed)
    miss = ising.per_spin(spins).reshape(len(labels), draws, 2) - labels[:, None, :]
    bias = miss.mean(axis=1)
    unbiased = np.median(np.abs(miss - bias[:, None, :]), axis=(0, 1))
    return {"bias": bias, "spread": miss.std(axis=1, ddof=1),
            "unbiased_energy_error": float(unbiased[0]),
            "unbiased_magnetization_error": float(unbiased[1])}


def error_map(generator, L, energies=None, magnetizations=None, per_point=16, seed=0,
              corrections=0):
    """Median |E_gen/N - E_req/N| and |m_gen - m_req| of `per_point` lattices generated at each
    (E/N, m) of a grid (thesis Fig. 6); NaN where no Ising configuration has that label.
    Returns {"energy", "magnetization" (the grid axes), "energy_error", "magnetization_error"
    (len(energies), len(magnetizations))}; `corrections`: see `generate`."""
    energies = np.linspace(-1.9, 1.9, 20) if energies is None else np.asarray(energies)
    magnetizations = (np.linspace(-0.95, 0.95, 20) if magnetizations is None
                      else np.asarray(magnetizations))
    grid_e, grid_m = np.meshgrid(energies, magnetizations, indexing="ij")
    wanted = physical(grid_e, grid_m)
    labels = np.repeat(np.stack([grid_e[wanted], grid_m[wanted]], 1), per_point, axis=0)
    spins = generate(generator, labels.astype(np.float32), L, seed, corrections=corrections)
    err = np.median(np.abs(ising.per_spin(spins) - labels).reshape(-1, per_point, 2), axis=1)
    maps = {}
    for column, name in enumerate(("energy_error", "magnetization_error")):
        maps[name] = np.full(grid_e.shape, np.nan)
        maps[name][wanted] = err[:, column]
    return {"energy": energies, "magnetization": magnetizations, **maps}


def region_mask(maps, region):
    """Which points of an `error_map` grid (energies x magnetizations) lie inside `region`."""
    grid_e, grid_m = np.meshgrid(maps["energy"], maps["magnetization"], indexing="ij")
    return in_region(region, np.stack([grid_e.ravel(), grid_m.ravel()], 1)).reshape(grid_e.shape)


def region_errors(maps, region):
    """Median map errors inside and outside `region`: {energy_inside, energy_outside,
    magnetization_inside, magnetization_outside}."""
    inside = region_mask(maps, region)
    figures = {}
    for name in ("energy", "magnetization"):
        values = maps[f"{name}_error"]
        figures[f"{name}_inside"] = float(np.nanmedian(values[inside]))
        figures[f"{name}_outside"] = float(np.nanmedian(values[~inside]))
    return figures


def novelty(generator, labels, training_spins, seed=0, per_label=8, corrections=0):
    """Are samples copies? {median_nearest_training_distance: median over generated lattices
    of the fraction of sites differing from the closest training configuration;
    within_label_diversity: mean fraction of sites differing between two samples made for the
    same label} at the training size (`corrections`: see `generate`)."""
    train = np.asarray(training_spins, np.float32).reshape(len(training_spins), -1)
    sites = train.shape[1]
    L = int(round(sites ** 0.5))
    made = generate(generator, labels, L, seed, corrections=corrections)
    made = made.reshape(len(labels), -1).astype(np.float32)
    nearest = (sites - (made @ train.T).max(axis=1)) / (2 * sites)
    repeats = generate(generator, np.repeat(labels[:8], per_label, axis=0), L, seed + 1,
                       corrections=corrections)
    repeats = repeats.reshape(-1, per_label, sites).astype(np.float32)
    overlap = np.einsum("lis,ljs->lij", repeats, repeats)
    pairs = (sites - overlap[:, ~np.eye(per_label, dtype=bool)]) / (2 * sites)
    return {"median_nearest_training_distance": float(np.median(nearest)),
            "within_label_diversity": float(pairs.mean())}


def starting_weights(init, preset):
    """{network: (export path, weights)} that a run started from the RUGAN export `init` takes:
    the generator at `init`, the critic at `init`_critic and, for a preset with a label
    regressor, the regressor at `init`_regressor. Every network is fully convolutional, so an
    export trained at one lattice size starts a run at another (e.g. 16 -> 64); a generator
    with reach blocks starts from one without them (the blocks begin as the identity)."""
    facts = export.check_start(init, "rugan_generator")
    paths = network_exports(init, preset)
    exported = facts.get("networks", list(paths))  # exports before 2026-12-04 do not list them
    missing = [path for name, path in paths.items()
               if name not in exported or not os.path.isdir(path)]
    if missing:
        raise InputError(f"--init {init}: {', '.join(missing)} missing or not from the run that "
                         "exported it (exported beside the generator by bin/train_rugan --export; "
                         "a run without a label regressor exports none: start it with "
                         "--label_weight 0 or --label_measure exact)")
    return {name: (path, export.load(path).weights) for name, path in paths.items()}


def selection(training_labels, L, seed=0, count=256):
    """Model selection score of an epoch (the RUGAN paper's, supplementary A.3, on the training
    regime only): median |E/N error| + median |m error| of lattices generated at `count`
    training labels, at the training size."""
    labels = training_labels[np.random.default_rng(seed).permutation(len(training_labels))[:count]]

    def score(model):
        with model.averaged() as generator:
            figures = conditioning(generator, labels, L, seed + 7)
        return figures["median_energy_error"] + figures["median_magnetization_error"]
    return score


def pictures(training_labels, L, seed=0, count=256):
    """TensorBoard pictures during training: samples generated at 16 training labels and
    histograms of the exact E/N and m errors at `count` of them."""
    labels = training_labels[:count]

    def draw(model):
        with model.averaged() as generator:
            made = generate(generator, labels, L, seed)
        exact = ising.per_spin(made)
        return {"images": {"samples": made[:16]},
                "histograms": {"energy_error": exact[:, 0] - labels[:, 0],
                               "magnetization_error": exact[:, 1] - labels[:, 1]}}
    return draw


def evaluate(generator, preset, seed=0, training_spins=None, corrections=0):
    """What a trained generator of `preset` makes: {"requested": the held-out labels (inside the
    preset's region if it has one), "figures": {L: their `conditioning`, upscale * L: ...},
    "map": `error_map` at L} plus {"regions": `region_errors`} for region presets and
    {"novelty"} given the training configurations; every lattice made with `corrections`
    (see `generate`)."""
    _, wanted = labelled(preset, "test", seed)
    result = {"requested": wanted,
              "figures": {L: conditioning(generator, wanted, L, seed, corrections=corrections)
                          for L in (preset.L, preset.upscale * preset.L)},
              "map": error_map(generator, preset.L, seed=seed, corrections=corrections)}
    if preset.region:
        result["regions"] = region_errors(result["map"], preset.region)
    if training_spins is not None:
        result["novelty"] = novelty(generator, wanted, training_spins, seed,
                                    corrections=corrections)
    return result


def train_rugan(preset, gpus=0, horovod=False, run_dir=None, checkpoint_every=0,
                export_dir=None, seed=0, verbose=None, init=None):
    """Train and score `preset`, keeping the epoch that conditions best on training labels
    (`selection`; with `preset.average`, of the generator's weight average, which is then also
    what is scored and exported); returns {"seconds", "examples", "is_chief", "best_epoch"}
    and, on the chief, what `evaluate` returns (with "novelty") and {"export"} with `export_dir`
    (the generator; the critic is exported beside it as `<export_dir>_critic`, a label
    regressor as `<export_dir>_regressor`). `init`: a RUGAN export whose networks the run
    starts from (`starting_weights`; fine-tuning, e.g. at a larger L)."""
    dist = Distribution(gpus, horovod)
    exports = network_exports(export_dir, preset) if export_dir else {}
    claim_outputs(run_dir, exports.values())
    initial = starting_weights(init, preset) if init else {}
    tf.keras.utils.set_random_seed(seed)
    spins, labels = labelled(preset, "train", seed)
    data = tf.data.Dataset.from_tensor_slices((spins[..., None].astype(np.float32), labels))
    config = TrainConfig.of(preset, run_dir=run_dir, checkpoint_every=checkpoint_every,
                            seed=seed, verbose=verbose)
    if dist.is_chief:
        logging.info("RUGAN preset %s on %d replica(s): %s", preset.name, dist.replicas, preset)
    start = time.perf_counter()
    augment = pipeline.energy_magnetization_symmetries if preset.augment else None

    def make():
        model = build(preset, seed=seed * 1000 + dist.rank)
        for name, (path, weights) in initial.items():
            start_from(getattr(model, name), path, weights, grown=gan.REACH)
        return model
    model, history = train(make, data, config, dist, transform=augment,
                           select=selection(labels, preset.L, seed),
                           pictures=pictures(labels, preset.L, seed))
    result = {"seconds": time.perf_counter() - start, "examples": len(spins),
              "is_chief": dist.is_chief, "best_epoch": getattr(history, "best_epoch", None)}
    if not dist.is_chief:
        return result
    with model.averaged():  # the weights it was selected with
        result.update(evaluate(model.generator, preset, seed, spins))
        if export_dir:
            facts = {"preset": preset.name, "model": "ising", "L": preset.L,
                     "label": "configuration",
                     "conditioning": ["energy per spin", "magnetization"],
                     "latent_channels": preset.latent_channels, "region": preset.region,
                     "reach": preset.reach,
                     "networks": sorted(exports)}
            written = {name: export.export(getattr(model, name), path,
                                           {"kind": f"rugan_{name}", **facts})
                       for name, path in exports.items()}
            result["export"] = written["generator"]
    return result
