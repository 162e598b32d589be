"""The thesis's Appendix A: kernel ridge regression and random forests (scikit-learn) against
the Schrödinger CNN on the same potentials, error and wall time against training-set size.

For every training-set size: KRR (RBF kernel; alpha and gamma chosen by 3-fold cross-validation
on the training set, the search included in its time, all cores), a random forest (100 trees,
a third of the features per split, Breiman's regression default; all cores) and the CNN
of the `--preset` given the same wall time as KRR (at least --cnn_seconds; the thesis's
protocol, which gave its network 10 s at the smallest sizes). KRR and the forest see the
potential averaged --downsample x --downsample (the input the CPU recipe's CNN sees after its
first layer; the full 65,536 pixels make the forest hours long). Every model is scored on the
dataset's whole SHA3 test split: median |error| in mHa, training and evaluation seconds. Every
model trains on the first n training potentials (the stored order is random).

Run: .venv/bin/python bin/generate_potentials --kind sho --count 4000 --out runs/sho
     .venv/bin/python benchmarks/schrodinger_peers.py --data runs/sho
"""

import time

import numpy as np
import sklearn.ensemble
import sklearn.kernel_ridge
import sklearn.metrics
import sklearn.model_selection
import tensorflow as tf
from absl import flags

import common

from tfphys import cli
from tfphys.data import pipeline, shards
from tfphys.training import fit, schrodinger_training

flags.DEFINE_string("data", None, "Potential dataset (bin/generate_potentials).")
flags.DEFINE_string("label", "eps0", "Label to learn: eps0, eps1 or kinetic.")
flags.DEFINE_list("sizes", ["250", "500", "1000", "2000", "all"], "Training-set sizes.")
flags.DEFINE_integer("downsample", 4, "Average the potential over blocks of this side for KRR "
                     "and the forest.", lower_bound=1)
flags.DEFINE_string("preset", "sho_quick", "Schrödinger CNN preset (its network and optimizer).")
flags.DEFINE_float("cnn_seconds", 10.0, "Least training time of the CNN.", lower_bound=1.0)
flags.DEFINE_integer("trees", 100, "Trees of the random forest.", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the forest and the CNN.")
flags.mark_flag_as_required("data")
FLAGS = flags.FLAGS


class _TimeLimit(tf.keras.callbacks.Callback):
    """Stop training once `seconds` of wall time have passed (checked every batch)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.start = seconds, time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.model.stop_training = time.perf_counter() - self.start > self.seconds


def _arrays(split):
    """(features (n, pixels) float64 averaged in blocks, labels (n,)) of a split, shard by
    shard (memory holds one full-resolution shard)."""
    b, xs, ys = FLAGS.downsample, [], []
    for x, y in pipeline.shard_arrays(FLAGS.data, FLAGS.label, split, features="potential"):
        n, side = x.shape[0], x.shape[1] // b
        xs.append(x.reshape(n, side, b, side, b).mean(axis=(2, 4)).reshape(n, -1))
        ys.append(y)
    return np.concatenate(xs).astype(np.float64), np.concatenate(ys).astype(np.float64)


def _median_mha(predicted, true):
    return round(1000 * float(np.median(np.abs(predicted - true))), 2)


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def _krr(x, y):
    squared = sklearn.metrics.pairwise.euclidean_distances(x[:200], squared=True)
    gamma = 1.0 / np.median(squared[squared > 0])  # the kernel's scale, searched around
    search = sklearn.model_selection.GridSearchCV(
        sklearn.kernel_ridge.KernelRidge(kernel="rbf"),
        {"alpha": [1e-8, 1e-6, 1e-4, 1e-2], "gamma": list(gamma * np.array([0.1, 0.3, 1, 3]))},
        cv=3, scoring="neg_mean_absolute_error", n_jobs=-1)
    return search.fit(x, y).best_estimator_


def _forest(x, y):
    return sklearn.ensemble.RandomForestRegressor(
        FLAGS.trees, max_features=1 / 3, n_jobs=-1, random_state=FLAGS.seed).fit(x, y)


def _cnn(n, seconds):
    preset = schrodinger_training.preset_with(FLAGS.preset, label=FLAGS.label, epochs=100000,
                                              decay="constant")
    data = pipeline.shard_examples(FLAGS.data, FLAGS.label, "train", features="potential")
    grid = shards.read_manifest(FLAGS.data)["metadata"]["grid"]
    config = fit.TrainConfig.of(preset, seed=FLAGS.seed, shuffle_buffer=4096, verbose=0)
    tf.keras.utils.set_random_seed(FLAGS.seed)
    model, _ = fit.train(lambda: schrodinger_training.build(preset, grid), data.take(n), config,
                         transform=schrodinger_training.symmetries if preset.augment else None,
                         callbacks=[_TimeLimit(seconds)])
    return model


def main(argv):
    del argv
    common.header()
    x, y = _arrays("train")
    x_test, y_test = _arrays("test")
    test = pipeline.shard_examples(FLAGS.data, FLAGS.label, "test", features="potential")
    print(f"{FLAGS.data}: {len(y)} training, {len(y_test)} test potentials, label "
          f"{FLAGS.label}, KRR/forest features {x.shape[1]}")
    for size in FLAGS.sizes:  # the first n of the stored (random) order, for every model
        n = len(y) if size == "all" else min(int(size), len(y))
        line = {}
        for name, make in (("krr", _krr), ("forest", _forest)):
            seconds, model = _timed(make, x[:n], y[:n])
            evaluation, predicted = _timed(model.predict, x_test)
            line[name] = {"mHa": _median_mha(predicted, y_test), "train_s": round(seconds, 1),
                          "eval_s": round(evaluation, 2)}
        budget = max(FLAGS.cnn_seconds, line["krr"]["train_s"])
        seconds, model = _timed(_cnn, n, budget)
        evaluation, predicted = _timed(lambda: model.predict(test.map(lambda v, _: v).batch(64),
                                                            verbose=0))
        line["cnn"] = {"mHa": _median_mha(predicted[:, 0], y_test), "train_s": round(seconds, 1),
                       "eval_s": round(evaluation, 2)}
        print(f"n={n}: {line}", flush=True)


if __name__ == "__main__":
    cli.run(main)
