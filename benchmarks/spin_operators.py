"""Accuracy of the learned spin operators against the thesis's figures.

Trains each preset through `tfphys.training.spins.spin_training.train_preset` (what
bin/train_cnn and bin/train_ednn run) once per seed and prints its figures on the SHA3 test
split and, with --boltzmann_test, on Metropolis configurations, next to the thesis's bar; with
several seeds also the mean and spread of the headline figure. Seed-scale presets take hours
on a CPU: use --gpus, or shorten with --epochs / --train_examples and say so with the numbers.

Run: .venv/bin/python benchmarks/spin_operators.py --presets ednn_ising8 --epochs 100 --gpus 1
"""

import numpy as np
from absl import flags

import common

from tfphys import cli
from tfphys.training.spins import spin_training

flags.DEFINE_list("presets", ["ising4_classify", "ednn_ising8"], "Presets to train and score.")
flags.DEFINE_integer("epochs", None, "Override the presets' epochs.")
flags.DEFINE_integer("train_examples", None, "Override the presets' training-set sizes.")
flags.DEFINE_integer("batch_size", None, "Override the presets' batch size.")
flags.DEFINE_float("learning_rate", None, "Override the presets' learning rate.")
flags.DEFINE_string("optimizer", None, "Override the presets' optimiser (adam, adadelta, sgd).")
flags.DEFINE_string("decay", None, "Override the presets' learning-rate schedule (constant, cosine).")
flags.DEFINE_string("padding", None, "Override the presets' padding (periodic, zeros).")
flags.DEFINE_boolean("augment", None, "Override the presets' symmetry augmentation.")
flags.DEFINE_integer("gpus", 0, "GPUs for MirroredStrategy (0: CPU).")
flags.DEFINE_integer("eval_L", 128, "EDNN presets: also score at this size near T_c (0: skip).")
flags.DEFINE_list("seeds", ["0"], "Training seeds (data, weights, shuffling), one run each.")
flags.DEFINE_integer("boltzmann_test", 0, "Also score this many Metropolis configurations "
                     "(0: skip).")
FLAGS = flags.FLAGS

THESIS = {
    "ising4_classify": "accuracy ~100 % over all 65,536 configurations, errors only +-1 class",
    "ising8_classify": "accuracy 99.922 % on 50k SHA3 test examples, errors only +-1 class",
    "ising8_regress": "median |error| 1.782 J",
    "ising8_magnetization": "median |error| 2e-3 per spin",
    "ednn_ising8": "median |error| 0.028 J at 8x8; 2.055 J at 128x128 near T_c",
    "ednn_ising8_c2": "median |error| 1.090 J",
    "ednn_ising8_c3": "median |error| 14.8 J",
    "screened_coulomb8_regress": "median |error| 0.640 J on 20k random test configurations",
    "sinusoidal8_regress": "median |error| 0.253 J on 20k random test configurations",
    "potts8_regress": "median |error| 0.542 J on random angles",
}


def headline(figures):
    return figures.get("accuracy", figures.get("median_abs_error"))


def main(argv):
    del argv
    common.header()
    overrides = {flag: getattr(FLAGS, flag) for flag in spin_training.OVERRIDES
                 if flag in FLAGS and getattr(FLAGS, flag) is not None}
    for name in FLAGS.presets:
        preset = spin_training.preset_with(name, **overrides)
        eval_L = FLAGS.eval_L if preset.kind == "ednn" else 0
        print(f"\n{name}: overrides {overrides}\n  thesis: {THESIS.get(name, '-')}")
        scores = {"test": [], "boltzmann": []}
        for seed in map(int, FLAGS.seeds):
            result = spin_training.train_preset(preset, gpus=FLAGS.gpus, eval_L=eval_L, seed=seed,
                                                boltzmann_test=FLAGS.boltzmann_test, verbose=0)
            print(f"  seed {seed}: {result['seconds'] / 60:.1f} min training, {result['examples']}")
            cli.print_figures(f"  {result['split']} ({result['L']}x{result['L']})",
                              result["figures"])
            scores["test"].append(headline(result["figures"]))
            if "boltzmann_figures" in result:
                cli.print_figures(f"  Boltzmann ({FLAGS.boltzmann_test})",
                                  result["boltzmann_figures"])
                scores["boltzmann"].append(headline(result["boltzmann_figures"]))
            if "eval_figures" in result:
                cli.print_figures(f"  thermal T_c ({eval_L}x{eval_L})", result["eval_figures"])
        for split, values in scores.items():
            if len(values) > 1:
                print(f"  {split} over {len(values)} seeds: mean {np.mean(values):.6g}, "
                      f"min {np.min(values):.6g}, max {np.max(values):.6g}")


if __name__ == "__main__":
    cli.run(main)
