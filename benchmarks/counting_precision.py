"""Counting EDNN training steps in float32 against Keras mixed precision (the layers computing in
bfloat16 or float16 on float32 weights, `bin/train_counting --precision`), same model, same
batches, same run: milliseconds per training step of the CPU recipes' shapes (32 digit collages
of 128 x 128, c = 8, two classes; 32 RGB scenes of 160 x 160, c = 12, one class). bfloat16 pays
on CPUs with AVX512-BF16 or AMX (elsewhere it is emulated, and slower); what it does to the
counts is in the record (a lineage trained with it).

Run: .venv/bin/python benchmarks/counting_precision.py [--steps 20 --repeats 3]
"""

import numpy as np
import tensorflow as tf
from absl import flags

import common

from tfphys import cli
from tfphys.training import counting_training
from tfphys.training.fit import PRECISIONS, built

flags.DEFINE_integer("steps", 20, "Training steps per timing.", lower_bound=1)
flags.DEFINE_integer("repeats", 3, "Timed repetitions (best is kept).", lower_bound=1)
flags.DEFINE_list("precisions", ["float32", "mixed_bfloat16"], f"Of {PRECISIONS}.")
FLAGS = flags.FLAGS
SHAPES = (("digits 128x128, c = 8, 2 classes", 128, 1, 8, 2),
          ("RGB scenes 160x160, c = 12, 1 class", 160, 3, 12, 1))


def main(argv):
    del argv
    common.header()
    rng = np.random.default_rng(0)
    for name, side, channels, context, classes in SHAPES:
        x = rng.integers(0, 256, (32, side, side, channels)).astype(np.float32)
        y = rng.integers(0, 3, (32, classes)).astype(np.float32)
        times = {}
        for precision in FLAGS.precisions:
            preset = counting_training.preset_with("counting_quick", context=context)
            model = built(lambda: counting_training.build(preset, channels, classes), precision)
            model.compile(tf.keras.optimizers.Adam(1e-4), "mse")
            model.train_on_batch(x, y)  # trace
            seconds, _ = common.best(
                lambda: [model.train_on_batch(x, y) for _ in range(FLAGS.steps)], FLAGS.repeats)
            times[precision] = 1000 * seconds / FLAGS.steps
        base = times.get("float32")
        line = ", ".join(f"{p} {ms:.0f} ms" + (f" ({base / ms:.2f}x)" if base else "")
                         for p, ms in times.items())
        print(f"{name}, 32 per step: {line}")


if __name__ == "__main__":
    cli.run(main)
