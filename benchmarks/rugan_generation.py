"""RUGAN: conditioning accuracy and sampling speed against Metropolis, same run.

Novelty: the fraction of sites in which a generated lattice differs from the closest training
configuration (0: a copy) and between two samples for the same label.
Conditioning: an exported generator (bin/train_rugan --export) is asked for the labels of
held-out configurations of its preset at the training size and at 4x the linear size; the exact
E/N and m of what it makes are compared with the request (median absolute errors; target 0.02).
Its reference: the median |dE/N| of a canonical sampler at each request's temperature (exact
spread from Onsager's energy), what a generator that gets the local statistics right but not the
global energy would make; a fully convolutional generator with local latents is of that kind.
With `--corrections C` the generator also remakes each lattice C times from its latent, the
label it is given moved by what the last lattice missed, and with `--best_of K` it makes K
lattices per request and keeps the one closest to it, both by the exact Hamiltonian
(`rugan_training.generate`): conditioning, novelty and speed of each. With `--draws K` the
generator's miss at the training size is split into a per-label bias and a within-label spread
(`rugan_training.miss_decomposition`), by eighths of the requested E/N.
Speed: configurations per second at 256 x 256 from the generator against Metropolis on the same
lattice, counting `--sweeps` sweeps per decorrelated configuration (the cheapest exact route the
project has to a 256^2 configuration near a given energy; it does not hit a requested (E, m)
exactly, the generator tries to).

Run: .venv/bin/python benchmarks/rugan_generation.py --model runs/rugan16/gen
"""

import numpy as np
from absl import flags

import common

from tfphys import cli
from tfphys.physics.spins import couplings, ising
from tfphys.physics.spins.metropolis import Metropolis
from tfphys.training import export
from tfphys.training.adversarial import rugan_training

flags.DEFINE_string("model", None, "Exported RUGAN generator.")
flags.DEFINE_integer("test_examples", 256, "Held-out labels to request.")
flags.DEFINE_integer("train_examples", None, "The training-set size the model was trained with "
                     "(default: the preset's), to regenerate it for the copy check.")
flags.DEFINE_integer("size", 256, "Lattice side of the speed comparison.")
flags.DEFINE_integer("count", 64, "Configurations generated for the speed comparison.")
flags.DEFINE_integer("sweeps", 1000, "Metropolis sweeps counted per decorrelated configuration.")
flags.DEFINE_integer("best_of", 1, "Also score and time the best of this many lattices per "
                     "request, selected by the exact Hamiltonian.")
flags.DEFINE_integer("corrections", 0, "Also score and time this many label corrections per "
                     "lattice by the exact Hamiltonian (same latent).")
flags.DEFINE_integer("repeats", 3, "Timing repeats (best is reported).")
flags.DEFINE_integer("draws", 0, "Also split the generator's miss at the training size into a "
                     "per-label bias and a within-label spread, from this many lattices per "
                     "request, by eighths of the requested E/N (0: skip).")
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS


def canonical_spread(labels, L):
    """Canonical sd of E/N at each requested E/N (clipped inside (-2, 2)), L x L lattice."""
    return ising.canonical_spread(np.clip(labels[:, 0], -1.999, 1.999), L * L)


def canonical_miss(labels, L, draws=64, seed=0):
    """Median |dE/N| of `draws` canonical samples per requested E/N on an L x L lattice."""
    spread = canonical_spread(labels, L)
    misses = np.random.default_rng(seed).normal(size=(draws, len(spread))) * spread
    return float(np.median(np.abs(misses)))


def print_decomposition(generator, wanted, L):
    """The generator's E/N miss at L as bias and spread, overall and by eighths of the request,
    against the canonical spread at each request's temperature."""
    parts = rugan_training.miss_decomposition(generator, wanted, L, FLAGS.draws, seed=3)
    canonical = canonical_spread(wanted, L)
    print(f"miss at {L}x{L} from {FLAGS.draws} lattices per request: median |bias| E/N "
          f"{np.median(np.abs(parts['bias'][:, 0])):.4f}, m "
          f"{np.median(np.abs(parts['bias'][:, 1])):.4f}; without the bias the median miss "
          f"would be E/N {parts['unbiased_energy_error']:.4f}, m "
          f"{parts['unbiased_magnetization_error']:.4f}; within-label sd of E/N "
          f"{np.median(parts['spread'][:, 0]):.4f} (canonical {np.median(canonical):.4f})")
    for part in np.array_split(np.argsort(wanted[:, 0]), 8):
        print(f"  requested E/N {wanted[part, 0].min():+.2f} to {wanted[part, 0].max():+.2f}: "
              f"median bias {np.median(parts['bias'][part, 0]):+.4f}, sd "
              f"{np.median(parts['spread'][part, 0]):.4f} (canonical "
              f"{np.median(canonical[part]):.4f})")


def main(argv):
    del argv
    common.header()
    facts = export.metadata(FLAGS.model)
    generator = export.load(FLAGS.model)
    preset = rugan_training.exported_preset(facts, test_examples=FLAGS.test_examples)
    _, wanted = rugan_training.labelled(preset, "test", seed=0)
    ways = {"the generator alone": {}}
    if FLAGS.corrections:
        plural = "s" * (FLAGS.corrections > 1)
        ways[f"{FLAGS.corrections} correction{plural}"] = {"corrections": FLAGS.corrections}
    if FLAGS.best_of > 1:
        ways[f"best of {FLAGS.best_of}"] = {"best_of": FLAGS.best_of}
    for L in (preset.L, 4 * preset.L):
        for way, options in ways.items():
            cli.print_figures(f"conditioning at {L}x{L}, {way} (target median <= 0.02)",
                              rugan_training.conditioning(generator, wanted, L, **options))
        print(f"  a canonical sampler at each request's temperature: median |dE/N| "
              f"{canonical_miss(wanted, L):.4f}")
    if FLAGS.draws:
        print_decomposition(generator, wanted, preset.L)
    training, _ = rugan_training.labelled(
        rugan_training.exported_preset(facts, train_examples=FLAGS.train_examples), "train",
        seed=0)
    for way, options in ways.items():
        if "best_of" not in options:  # selection keeps one of K draws: no more a copy than one
            cli.print_figures(f"samples vs training set (fraction of sites), {way}",
                              rugan_training.novelty(generator, wanted, training, **options))
    labels = np.tile(wanted[:1], (FLAGS.count, 1))
    mc = Metropolis(couplings.ising(FLAGS.size), n_replicas=4, seed=0)
    sweeps = max(1, FLAGS.sweeps // 10)
    mc_seconds, _ = common.best(lambda: mc.run(np.full(sweeps, 1 / 2.5)), FLAGS.repeats)
    mc_rate = 4 / (mc_seconds * FLAGS.sweeps / sweeps)
    for way, options in ways.items():
        seconds, _ = common.best(
            lambda: rugan_training.generate(generator, labels, FLAGS.size, **options),
            FLAGS.repeats)
        gan_rate = FLAGS.count / seconds
        print(f"{FLAGS.size}x{FLAGS.size}: RUGAN ({way}) {gan_rate:.2f} configs/s, "
              f"Metropolis ({FLAGS.sweeps} sweeps each) {mc_rate:.3f} configs/s, ratio "
              f"{gan_rate / mc_rate:.0f}x")


if __name__ == "__main__":
    cli.run(main)
