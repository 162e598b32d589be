"""The command line shared by bin/train_cnn and bin/train_ednn: flags, then train, score, export.

A script calls `define_flags(kind, default_preset)`, adopts this module's flags for --help and
runs `main` through tfphys.cli. Placement: --gpus N (MirroredStrategy; 0 = CPU) or --horovod
under horovodrun. Only the chief prints figures and writes the export.
"""

import dataclasses
import json
import time

import tensorflow as tf
from absl import flags, logging

from tfphys.data import pipeline
from tfphys.errors import InputError
from tfphys.training import export, presets, run
from tfphys.training.distribute import Distribution
from tfphys.training.fit import TrainConfig, train

FLAGS = flags.FLAGS
_KIND = {}


def define_flags(kind, default_preset):
    """Define the training flags for a script training `kind` ("cnn" or "ednn") models."""
    _KIND["kind"] = kind
    flags.DEFINE_enum("preset", default_preset, presets.names(kind),
                      "Named run: data, network and optimiser of a thesis experiment; flags "
                      "below override its fields. " + "; ".join(
                          f"{n}: {presets.PRESETS[n].description}" for n in presets.names(kind)))
    flags.DEFINE_integer("gpus", 0, "GPUs for MirroredStrategy on this machine; 0 trains on the CPU.",
                         lower_bound=0)
    flags.DEFINE_bool("horovod", False, "Run as one Horovod rank (start with horovodrun -np K).")
    flags.DEFINE_string("data", None, "Shard directory from bin/generate_spins (its SHA3 split "
                        "gives train and test); default: generate the preset's data in memory.")
    flags.DEFINE_bool("stream", False, "Stream freshly generated batches from the preset's sampler "
                      "instead of a fixed training set (an epoch = train_examples examples).")
    flags.DEFINE_integer("train_examples", None, "Override the number of generated training "
                         "examples.", lower_bound=1)
    flags.DEFINE_integer("test_examples", None, "Override the number of generated test examples.",
                         lower_bound=1)
    flags.DEFINE_integer("epochs", None, "Override the number of training epochs.", lower_bound=1)
    flags.DEFINE_integer("batch_size", None, "Override the batch size (global under --gpus, per "
                         "rank under --horovod).", lower_bound=1)
    flags.DEFINE_float("learning_rate", None, "Override the base learning rate (Horovod "
                       "multiplies it by the number of ranks).", lower_bound=0.0)
    flags.DEFINE_enum("decay", None, ["constant", "cosine"], "Override the learning-rate "
                      "schedule: constant (the thesis) or cosine decay to zero over the run.")
    flags.DEFINE_enum("optimizer", None, ["adam", "adadelta", "sgd"],
                      "Override the preset's optimiser.")
    flags.DEFINE_string("run_dir", None, "Directory for checkpoints and TensorBoard logs; rerunning "
                        "with the same directory resumes from the latest checkpoint.")
    flags.DEFINE_integer("checkpoint_every", 0, "Also checkpoint every N steps (0: at epoch ends "
                         "only).", lower_bound=0)
    flags.DEFINE_string("export", None, "Write the trained model as a SavedModel to this directory.")
    flags.DEFINE_integer("seed", 0, "Seed for data generation, shuffling and initial weights.")
    flags.DEFINE_float("target", None, "Stop early once the training metric (mae, or accuracy "
                       "for classifiers) reaches this value.")
    flags.DEFINE_enum("padding", None, ["periodic", "zeros"], "Override the convolution / tile "
                      "padding: periodic (wraps the lattice's edges) or zeros (the thesis's CNN).")
    flags.DEFINE_boolean("augment", None, "Override the preset: move each training example by a "
                         "random lattice symmetry (translation, rotation, reflection, spin flip) "
                         "every epoch. Fixed training sets only (--stream draws fresh data).")
    if kind == "ednn":
        flags.DEFINE_integer("context", None, "Override the EDNN context width c.", lower_bound=0)
        flags.DEFINE_integer("eval_L", 0, "Also score on L x L Ising configurations sampled at "
                             "T_c (the thesis uses 128); 0 skips.", lower_bound=0)


def _preset():
    preset = presets.get(FLAGS.preset, _KIND["kind"])
    overrides = {name: getattr(FLAGS, name) for name in
                 ("train_examples", "test_examples", "epochs", "batch_size", "learning_rate",
                  "optimizer", "decay", "context", "padding", "augment")
                 if name in FLAGS and getattr(FLAGS, name) is not None}
    return dataclasses.replace(preset, **overrides)


def print_figures(title, figures):
    """One line: the title and the figures as JSON (confusion matrices left out)."""
    shown = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in figures.items()
             if k != "confusion"}
    print(f"{title}: {json.dumps(shown)}")


def main(argv):
    del argv
    preset = _preset()
    if FLAGS.stream and FLAGS.data:
        raise InputError("--stream generates its data; drop --data or --stream")
    if FLAGS.stream and preset.augment:
        raise InputError("--stream draws fresh configurations every batch; symmetry "
                         "augmentation is for fixed training sets: add --noaugment")
    dist = Distribution(FLAGS.gpus, FLAGS.horovod)
    tf.keras.utils.set_random_seed(FLAGS.seed)
    if dist.is_chief:
        logging.info("preset %s on %d replica(s): %s", preset.name, dist.replicas, preset)
    if FLAGS.stream:
        data = pipeline.stream(run.source(preset), preset.batch_size, preset.sampler, preset.label,
                               split="train", upscale_to=preset.upscale_to if preset.kind == "cnn"
                               else None, seed=FLAGS.seed)
        steps = max(1, preset.train_examples // preset.batch_size)
    else:
        data = run.dataset(preset, *run.examples(preset, "train", FLAGS.data, FLAGS.seed),
                           preset.batch_size, FLAGS.seed)
        steps = None
    config = TrainConfig(epochs=preset.epochs, batch_size=preset.batch_size,
                         optimizer=preset.optimizer, learning_rate=preset.learning_rate,
                         decay=preset.decay, loss=preset.loss, run_dir=FLAGS.run_dir,
                         checkpoint_every=FLAGS.checkpoint_every, steps_per_epoch=steps,
                         target=(("accuracy" if preset.label == "label" else "mae"), FLAGS.target)
                         if FLAGS.target is not None else None)
    start = time.perf_counter()
    model, _ = train(lambda: run.build(preset), data, config, dist)
    seconds = time.perf_counter() - start
    if not dist.is_chief:
        return 0
    print(f"trained {preset.name} in {seconds:.1f} s on {dist.replicas} replica(s)")
    split = "all" if preset.test_examples == 0 else "test"
    configs, labels = run.examples(preset, split, FLAGS.data, FLAGS.seed)
    print_figures(f"{split} ({preset.L}x{preset.L})",
                  run.score(preset, run.predict(preset, model, configs), configs, labels))
    if preset.kind == "ednn" and FLAGS.eval_L:
        configs, labels = run.examples(preset, "test", None, FLAGS.seed, count=64, L=FLAGS.eval_L,
                                       sampler="thermal", temperature=2.269, n_equilibrate=1000)
        print_figures(f"thermal T_c ({FLAGS.eval_L}x{FLAGS.eval_L})",
                      run.score(preset, run.predict(preset, model, configs, 4), configs, labels))
    if FLAGS.export:
        print(f"exported: {export.export(model, FLAGS.export)}")
    return 0
