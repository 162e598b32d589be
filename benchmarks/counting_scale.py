"""Counting on images larger than trained on (the paper: 1920 x 1080 scenes from a 256 x 256 model):
test collages of the model's MNIST set at --size (default 1024 x 1024; 1920x1080 is the paper's
frame) with L_max scaled by the area, so the digit density matches the training set, drawn from the
test digits only; prints per class the share of exact rounded counts, the median |error| and the
mean (signed) error, and the share of digits localized (`counting_training.localization`), at 256 x
256 and at --size, with the time per image.

Run: .venv/bin/python benchmarks/counting_scale.py --model runs/mnist1/model --dataset mnist1
(a model trained on smaller collages, bin/generate_counting --size 128, is scored the same way)
"""

import time

import numpy as np
from absl import app, flags

import common

from tfphys.data import collages, mnist
from tfphys.training import counting_training, export

flags.DEFINE_string("model", None, "Exported counting EDNN (bin/train_counting --export).")
flags.DEFINE_enum("dataset", "mnist1", list(collages.DATASETS), "The MNIST set it was trained on.")
flags.DEFINE_string("size", "1024", "Side or WIDTHxHEIGHT of the large test images.")
flags.DEFINE_integer("count", 20, "Test images per size.", lower_bound=1)
flags.DEFINE_integer("seed", 11, "Seed of the test collages.")
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    common.header()
    model = export.load(FLAGS.model)
    maps = counting_training.density(model)
    focus = export.metadata(FLAGS.model)["focus"]
    spec = collages.dataset(FLAGS.dataset)
    images, labels, _ = mnist.digits()
    pool = collages.pools(images, labels, spec.classes)
    classes = [str(c) for c in spec.classes]
    for size in (collages.SIZE, FLAGS.size):
        height, width = collages.shape(size)
        scaled = collages.at_size(spec, size)
        made = collages.examples(scaled, FLAGS.count, FLAGS.seed, pool, test_fraction=1.0,
                                 size=size)
        start = time.perf_counter()
        predicted = np.concatenate([model(made["image"][k:k + 1, ..., None].astype(np.float32))
                                    .numpy() for k in range(FLAGS.count)])
        seconds = (time.perf_counter() - start) / FLAGS.count
        figures = counting_training.figures(predicted, made["counts"], classes)
        found = [counting_training.localization(maps(image[None, ..., None].astype(np.float32))
                                                .numpy()[0], objects, focus)
                 for image, objects in zip(made["image"], made["objects"])]
        for k, name in enumerate(classes):  # a bias shows as a mean error growing with size
            figures[f"mean_error_{name}"] = float(np.mean(predicted[:, k] - made["counts"][:, k]))
        figures["localized"] = sum(f for f, _ in found) / max(1, sum(n for _, n in found))
        print(f"{width}x{height} (L_max {scaled.l_max}, mean count {made['counts'].mean():.1f}, "
              f"{1000 * seconds:.0f} ms per image): {figures}", flush=True)


if __name__ == "__main__":
    app.run(main)
