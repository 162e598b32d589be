"""Train the 2017 GAN (`models.label_gan`) on an Ising energy distribution and score it.

Datasets (thesis: 8x8, 50,000 each): `low` and `high` are targeted-sampling chains aimed at
-1.3 L^2 and +1.3 L^2 (`physics.spins.targeted.around`), `bimodal` is half of each, `uniform` holds
every one of the 63 energies equally often (`physics.spins.targeted`'s flat histogram).

`train_gan(preset)` trains through `fit.train` and returns what the thesis's Figs. 3 and 4
show, as numbers: the 1-Wasserstein distance between the generated and training E/N (and m)
distributions, the share of generated samples in each mode (bimodal), and the discriminator as
an anomaly detector on a uniform-energy test set: its label error, and the ROC AUC with which
its confidence separates energies inside the training range from those outside. The same
confidence can filter what the generator makes (`generate(..., discriminator=...)`:
discriminator rejection sampling), and the figures are given for both samplers.
"""

import dataclasses
import time

import numpy as np
import scipy.stats
import tensorflow as tf
from absl import logging

from tfphys import checks
from tfphys.data import pipeline
from tfphys.data import spins as spin_data
from tfphys.errors import InputError
from tfphys.models import label_gan
from tfphys.physics.spins import couplings, ising, targeted
from tfphys.training import export, presets
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, claim_outputs, steps_per_epoch, train

DATASETS = ("low", "high", "bimodal", "uniform")
TARGET = 1.3  # |E| / L^2 of the low and high sets
REJECTION_CAP = 90  # percentile of the discriminator's logits above which every sample is kept


@dataclasses.dataclass(frozen=True)
class GanPreset:
    name: str
    dataset: str
    L: int = 8
    train_examples: int = 50000
    test_examples: int = 6300  # uniform over the energies: the anomaly-detection test (Fig. 4)
    epochs: int = 2000
    switch_epoch: int = 1000  # gamma 0.5 -> 0.02
    batch_size: int = 256  # real; as many generated
    learning_rate: float = 2e-5  # the discriminator's Adam; the generator's is 5x
    beta_1: float = 0.9  # both Adams (the thesis names no betas: Adam's defaults)
    generator_filters: int = 64
    discriminator_filters: int = 32
    kT: float = 8.0  # width of the low/high targeted-sampling envelope
    augment: bool = False  # lattice symmetries and the spin flip (E/N, m) -> (E/N, -m), each epoch
    decay: str = "constant"  # both learning rates; "cosine": to 0 over the run
    feature_matching: float = 0.0  # weight of the sorted label matching term (0: the thesis)
    exact_matching: float = 0.0  # the same on the exact (E/N, m) of the generated signs
    outliers: float = 0.0  # most spins moved in real lattices shown as fakes (outlier exposure)
    select_from: int = 1  # the kept epoch (best W1) is one from this on: the discriminator matures
    average: float = 0.0  # the generator's weight average's momentum (0: none, the thesis)
    description: str = ""


def _presets():
    made = []
    for dataset in DATASETS:
        made.append(GanPreset(f"gan_{dataset}", dataset, description=f"the thesis: 8x8, {dataset} "
                              "energies, 50,000 configurations, 2000 epochs (gamma drops at 1000)"))
        made.append(GanPreset(f"gan_{dataset}_quick", dataset, train_examples=10000, epochs=12,
                              switch_epoch=12, batch_size=64, learning_rate=2e-4,
                              generator_filters=32, feature_matching=10.0,
                              exact_matching=300.0, outliers=0.5, select_from=6,
                              average=0.998,
                              description=f"CPU-sized: {dataset} energies, 10,000 "
                              "configurations, batches of 64, 12 epochs at gamma 0.5 (the "
                              "thesis's first phase), rates 10x the thesis's, the best epoch "
                              "from the 6th on kept; not in the thesis: a moving average of "
                              "the generator's weights (momentum 0.998), sorted label matching "
                              "(weight 10) against mode collapse, the same on the exact (E/N, m) "
                              "of the generated lattices (weight 300), and outlier exposure of "
                              "the discriminator (real lattices with up to half their spins "
                              "moved up, down or randomly in energy, shown as fakes)"))
    return {p.name: p for p in made}


PRESETS = _presets()
OVERRIDES = ("train_examples", "test_examples", "epochs", "switch_epoch", "batch_size",
             "learning_rate", "augment", "decay", "beta_1", "feature_matching", "exact_matching",
             "outliers", "select_from", "average")


def preset_with(name, **overrides):
    preset = presets.overridden(PRESETS, name, "GAN", **overrides)
    TrainConfig.of(preset, verbose=0)  # its checks (epochs, select_from ...) before any data
    if preset.L not in (4, 8, 16, 32):
        raise InputError(f"the 2017 GAN makes L = 4, 8, 16 or 32 lattices; got L={preset.L}")
    checks.real("exact_matching", preset.exact_matching, low=0)
    if not 0 <= checks.real("outliers", preset.outliers) <= 1:
        raise InputError(f"outliers is the largest fraction of spins flipped, in [0, 1]; got "
                         f"{preset.outliers}")
    checks.generator_average(preset.average)
    return preset


def configurations(dataset, L, count, seed=0, kT=8.0):
    """`count` L x L Ising configurations (int8) of one of `DATASETS`."""
    if dataset not in DATASETS:
        raise InputError(f"unknown GAN dataset {dataset!r}; choose one of {DATASETS}")
    rng = np.random.default_rng(seed)
    model = couplings.ising(L)
    draw = lambda sign, n: targeted.around(model, sign * TARGET * L * L, n, kT,  # noqa: E731
                                           seed=int(rng.integers(2 ** 63)))[0]
    if dataset == "low":
        return draw(-1, count)
    if dataset == "high":
        return draw(1, count)
    if dataset == "bimodal":
        both = np.concatenate([draw(-1, count // 2), draw(1, count - count // 2)])
        return both[rng.permutation(count)]
    return spin_data.generate(spin_data.SpinSource("ising", L), "targeted", count,
                              seed=int(rng.integers(2 ** 63)))["spins"]


def build(preset, switch_step, seed=0):
    return label_gan.LabelGAN(label_gan.generator(preset.L, preset.generator_filters),
                              label_gan.discriminator(preset.L, 2, preset.discriminator_filters),
                              switch_step=switch_step, learning_rate=preset.learning_rate,
                              beta_1=preset.beta_1, feature_matching=preset.feature_matching,
                              exact_matching=preset.exact_matching, outliers=preset.outliers,
                              average=preset.average, seed=seed)


def generate(generator, count, seed=0, batch=1024, dropout=False, discriminator=None,
             cap=REJECTION_CAP):
    """`count` +-1 lattices (int8) from an unconditional generator (the signs of its output).
    The generator's dropout (keep 0.7, against memorizing the training set) is off, as the
    thesis turns dropout off at inference; with `dropout` the samples carry the masks the
    generator trained with (what its discriminator saw), which widens their energies.

    With a `discriminator`, discriminator rejection sampling (Azadi et al., ICLR 2019): each
    candidate x is kept with probability min(1, exp(l(x) - l_cap)), where l is the
    discriminator's real/fake logit averaged over x and its spin flip -x (an exact symmetry of
    the zero-field data that the network does not have) and l_cap the `cap`-th percentile of the
    first batch's logits. For an optimal discriminator exp(l) = p_data / p_generator, so the kept
    lattices follow the training distribution; the thesis's confidence rejects the generator's
    anomalies. At least (100 - cap) % of the candidates are kept: at most 10 per kept lattice
    at the default cap."""
    rng = np.random.default_rng(seed)
    if discriminator is not None:
        cap = checks.real("cap", cap, low=0)
        if cap >= 100:
            raise InputError(f"cap must be a percentile below 100, got {cap}")
        accept = np.random.default_rng([seed, 1])
    parts, have, limit = [], 0, None
    while have < count:
        noise = label_gan.NOISE_STDDEV * rng.normal(
            size=(batch if discriminator is not None else min(batch, count - have),
                  *label_gan.NOISE_SHAPE)).astype(np.float32)
        made = np.where(generator(noise, training=dropout).numpy()[..., 0] >= 0, 1, -1)
        made = made.astype(np.int8)
        if discriminator is not None:
            logit = label_gan.flip_averaged(discriminator, made[..., None]).numpy()[:, 0]
            limit = np.percentile(logit, cap) if limit is None else limit
            made = made[accept.random(len(made)) < np.exp(np.minimum(logit - limit, 0))]
        parts.append(made[:count - have])
        have += len(parts[-1])
    return np.concatenate(parts)


def discriminator_dir(export_dir):
    """Where `train_gan` exports the discriminator of a generator exported at `export_dir`."""
    return f"{export_dir}_discriminator"


def exported_discriminator(export_dir):
    """The discriminator that `train_gan` exported beside the generator at `export_dir`."""
    path = discriminator_dir(export_dir)
    if export.metadata(path).get("kind") != "gan_discriminator":
        raise InputError(f"{path} is not a 2017 GAN discriminator (bin/train_gan --export DIR "
                         "writes it beside the generator)")
    return export.load(path)


def distributions(made, training):
    """How well generated configurations match the training distribution: 1-Wasserstein
    distances of E/N and m, and the share of generated samples with E < 0 (the low mode)."""
    a, b = ising.per_spin(made), ising.per_spin(training)
    return {"w1_energy": float(scipy.stats.wasserstein_distance(a[:, 0], b[:, 0])),
            "w1_magnetization": float(scipy.stats.wasserstein_distance(a[:, 1], b[:, 1])),
            "low_mode_fraction": float(np.mean(a[:, 0] < 0)),
            "training_low_mode_fraction": float(np.mean(b[:, 0] < 0))}


def inside(energies, training_energies):
    """Whether each E/N lies inside the training set's range (its 0.5 to 99.5 percentiles)."""
    low, high = np.percentile(training_energies, [0.5, 99.5])
    return (energies >= low) & (energies <= high)


def roc_auc(scores, positive):
    """Area under the ROC curve: the probability that a random positive outscores a random
    negative (Mann-Whitney U / (n_pos n_neg), ties counting half)."""
    positive = np.asarray(positive, bool)
    if positive.all() or not positive.any():
        raise InputError("ROC AUC needs examples inside and outside the training range")
    u = scipy.stats.mannwhitneyu(scores[positive], scores[~positive]).statistic
    return float(u / (positive.sum() * (~positive).sum()))


def anomaly_detection(model, test_spins, training_energies):
    """The discriminator on a uniform-energy test set (thesis Fig. 4): {auc, median label
    errors inside and outside the training range, mean confidence inside and outside} and the
    arrays (E/N, predicted E/N, confidence) for plotting; outputs averaged over the spin flip
    (`LabelGAN.confidence`; "auc_without_flip": the network's own)."""
    truth = ising.per_spin(test_spins)
    spins = test_spins[..., None].astype(np.float32)
    predicted, confidence = (np.asarray(t) for t in model.confidence(spins))
    mask = inside(truth[:, 0], training_energies)
    error = np.abs(predicted[:, 0] - truth[:, 0])
    figures = {"auc": roc_auc(confidence, mask),
               "auc_without_flip": roc_auc(np.asarray(model.confidence(spins, False)[1]), mask),
               "median_energy_error_inside": float(np.median(error[mask])),
               "median_energy_error_outside": float(np.median(error[~mask])),
               "mean_confidence_inside": float(confidence[mask].mean()),
               "mean_confidence_outside": float(confidence[~mask].mean())}
    return figures, {"energy": truth[:, 0], "predicted": predicted[:, 0], "confidence": confidence}


def pictures(count=16, seed=0):
    """TensorBoard pictures during training (thesis Fig. 2): a sample grid and the E/N and m
    histograms of 512 generated configurations (by the generator's weight average if kept)."""
    def draw(model):
        with model.averaged() as generator:
            made = generate(generator, 512, seed)
        figures = ising.per_spin(made)
        return {"images": {"samples": made[:count]},
                "histograms": {"energy_per_spin": figures[:, 0], "magnetization": figures[:, 1]}}
    return draw


def selection(training_spins, seed=0, count=2000):
    """Model selection score of an epoch (lower is better): W1 of E/N plus W1 of m between
    `count` generated configurations and the training set (the thesis trained "until the
    energy and magnetization distributions are deemed sufficiently similar")."""
    def score(model):
        with model.averaged() as generator:
            figures = distributions(generate(generator, count, seed + 7), training_spins)
        return figures["w1_energy"] + figures["w1_magnetization"]
    return score


def train_gan(preset, gpus=0, horovod=False, run_dir=None, checkpoint_every=0, export_dir=None,
              seed=0, verbose=None, samples=10000):
    """Train and score `preset` (the epoch from `preset.select_from` on whose samples match the
    training distribution best, `selection`, is kept; with `preset.average`, of the generator's
    weight average); returns {"seconds", "examples", "is_chief", "best_epoch", "selection" (each
    epoch's score)} and on the chief {"distributions": `distributions` of `samples` generated
    configurations, "anomaly": `anomaly_detection` figures, "rejection": the `distributions` of
    as many kept by discriminator rejection sampling, "with_dropout": of as many made with the
    generator's dropout on, "arrays": {training, generated, test arrays for the plots}} and
    {"export"} with `export_dir` (the discriminator beside it as `<export_dir>_discriminator`)."""
    dist = Distribution(gpus, horovod)
    claim_outputs(run_dir, (export_dir, discriminator_dir(export_dir)) if export_dir else ())
    tf.keras.utils.set_random_seed(seed)
    train_spins = configurations(preset.dataset, preset.L, preset.train_examples, seed, preset.kT)
    train_labels = ising.per_spin(train_spins).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices((train_spins[..., None].astype(np.float32),
                                               train_labels))
    config = TrainConfig.of(preset, run_dir=run_dir, checkpoint_every=checkpoint_every,
                            seed=seed, verbose=verbose)
    switch = preset.switch_epoch * steps_per_epoch(data, config, dist)
    if dist.is_chief:
        logging.info("GAN preset %s on %d replica(s): %s", preset.name, dist.replicas, preset)
    start = time.perf_counter()
    augment = pipeline.energy_magnetization_symmetries if preset.augment else None
    model, history = train(lambda: build(preset, switch, seed=seed * 1000 + dist.rank), data,
                           config, dist, transform=augment, pictures=pictures(seed=seed),
                           select=selection(train_spins, seed))
    result = {"seconds": time.perf_counter() - start, "examples": len(train_spins),
              "is_chief": dist.is_chief, "best_epoch": getattr(history, "best_epoch", None),
              "selection": history.history.get("selection", [])}
    if not dist.is_chief:
        return result
    with model.averaged() as generator:  # the weights it was selected with
        made = generate(generator, samples, seed + 1)
        test = configurations("uniform", preset.L, preset.test_examples, seed + 2)
        result["distributions"] = distributions(made, train_spins)
        result["with_dropout"] = distributions(generate(generator, samples, seed + 1,
                                                        dropout=True), train_spins)
        result["rejection"] = distributions(
            generate(generator, samples, seed + 1, discriminator=model.discriminator),
            train_spins)
        result["anomaly"], arrays = anomaly_detection(model, test, train_labels[:, 0])
        result["arrays"] = {"training": train_labels, "generated": ising.per_spin(made), **arrays}
        if export_dir:
            facts = {"kind": "gan_generator", "preset": preset.name, "model": "ising",
                     "L": preset.L, "label": "configuration", "dataset": preset.dataset}
            result["export"] = export.export(generator, export_dir, facts)
            export.export(model.discriminator, discriminator_dir(export_dir),
                          {**facts, "kind": "gan_discriminator",
                           "outputs": ["real logit", "energy per spin", "magnetization"]})
    return result
