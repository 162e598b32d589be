"""Accuracy of the learned spin operators against the thesis's figures.

Trains each preset with bin/train_cnn or bin/train_ednn (same flags as a user would pass),
then prints the script's test figures next to the thesis's bar. Seed-scale presets take hours
on a CPU: use --gpus, or shorten with --epochs / --train_examples and say so with the numbers.

Run: .venv/bin/python benchmarks/spin_operators.py --presets ednn_ising8 --epochs 100 --gpus 1
"""

import os
import subprocess
import sys
import time

from absl import app, flags

import common

from tfphys.training import presets

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
FLAGS = flags.FLAGS

THESIS = {
    "ising4_classify": "accuracy ~100 % over all 65,536 configurations, errors only +-1 class",
    "ising8_classify": "accuracy 99.922 % on 50k SHA3 test examples, errors only +-1 class",
    "ising8_regress": "median |error| 1.782 J",
    "ising8_magnetization": "median |error| 2e-3 per spin",
    "ednn_ising8": "median |error| 0.028 J at 8x8; 2.055 J at 128x128 near T_c",
    "ednn_ising8_c2": "median |error| 1.090 J",
    "ednn_ising8_c3": "median |error| 14.8 J",
}


def main(argv):
    del argv
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    common.header()
    for name in FLAGS.presets:
        preset = presets.get(name)
        cmd = [sys.executable, os.path.join(root, "bin", f"train_{preset.kind}"), f"--preset={name}",
               f"--gpus={FLAGS.gpus}"]
        cmd += [f"--{flag}={getattr(FLAGS, flag)}" for flag in
                ("epochs", "train_examples", "batch_size", "learning_rate", "optimizer", "decay",
                 "padding", "augment")
                if getattr(FLAGS, flag) is not None]
        cmd += [f"--eval_L={FLAGS.eval_L}"] if preset.kind == "ednn" and FLAGS.eval_L else []
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        minutes = (time.perf_counter() - start) / 60
        print(f"\n{name} ({minutes:.1f} min): {' '.join(os.path.basename(c) for c in cmd[1:])}")
        print(f"  thesis: {THESIS.get(name, '-')}")
        if proc.returncode:
            print(f"  FAILED ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
        for line in proc.stdout.splitlines():
            if line.startswith(("test", "all", "thermal", "trained")):
                print(f"  {line}")


if __name__ == "__main__":
    app.run(main)
