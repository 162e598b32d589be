"""EDNN evaluation tile by tile (models.ednn: (f + 2c)^2 tiles cut at stride f, one brain call
on all of them) against one fully convolutional pass (models.ednn_sliding), same weights, same
inputs, same run: seconds per batch, forward and forward + gradient, and the largest
difference. Brains: the counting paper's digit tile CNN (f = 8, c = 8, 4x4 stride-2 valid
convolutions) on 256 x 256 images, and the same at f = 16, c = 8 on 64 x 64 sheet images.

Run: .venv/bin/python benchmarks/ednn_sliding.py [--batch 16 --repeats 3]
"""

import numpy as np
import tensorflow as tf
from absl import flags

import common

from tfphys import cli
from tfphys.models import ednn
from tfphys.models.ednn_sliding import conv_brain, sliding

flags.DEFINE_integer("batch", 16, "Images per call.", lower_bound=1)
flags.DEFINE_integer("repeats", 3, "Timed repetitions (best is kept).", lower_bound=1)
FLAGS = flags.FLAGS


def _gradient(model, x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x, training=True) ** 2)
    return tape.gradient(loss, model.trainable_variables)


def main(argv):
    del argv
    common.header()
    rng = np.random.default_rng(0)
    for name, focus, context, convs, side in (("digits f=8 c=8", 8, 8, 3, 256),
                                              ("sheets f=16 c=8", 16, 8, 3, 64)):
        model = ednn.ednn(conv_brain(focus, context, convs=convs), focus, context)
        fast = sliding(model)
        x = tf.constant(rng.normal(size=(FLAGS.batch, side, side, 1)).astype(np.float32))
        difference = float(np.abs(fast(x) - model(x)).max())
        line = {}
        for what, run in (("forward", lambda m: m(x).numpy()),
                          ("gradient", lambda m: _gradient(m, x))):
            tiled, _ = common.best(lambda: run(model), FLAGS.repeats)
            slid, _ = common.best(lambda: run(fast), FLAGS.repeats)
            line[what] = f"tiles {1000 * tiled:.0f} ms, sliding {1000 * slid:.0f} ms " \
                         f"({tiled / slid:.1f}x)"
        print(f"{name}, {FLAGS.batch} x {side}x{side}: {line}; max |difference| "
              f"{difference:.1e}")


if __name__ == "__main__":
    cli.run(main)
