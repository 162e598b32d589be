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

from tfphys import outputs
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


def _claim_outputs(preset):
    """Check every output path and size before training, so a bad one costs no training time."""
    if FLAGS.export:
        outputs.claim_dir(FLAGS.export, export.MARKER, "tfphys model export", "--export")
    if FLAGS.run_dir:
        outputs.claim_dir(FLAGS.run_dir, "checkpoints", "tfphys run directory", "--run_dir")
    run.check_size(preset, preset.L, preset.batch_size)
    if preset.kind == "ednn" and FLAGS.eval_L:
        run.check_size(preset, FLAGS.eval_L, 1, tiled=True)


def _training_data(preset, dist):
    """(data for fit.train, steps per epoch or None, augmentation transform or None)."""
    if FLAGS.stream:
        upscale = preset.upscale_to if preset.kind == "cnn" else None
        steps = max(1, preset.train_examples // preset.batch_size)
        return (lambda epoch: pipeline.stream(
            run.source(preset), preset.batch_size, preset.sampler, preset.label, split="train",
            upscale_to=upscale, seed=[FLAGS.seed, dist.rank], start=epoch * steps)), steps, None
    if FLAGS.data:
        data = run.shard_examples(preset, FLAGS.data, "train")
    else:
        data = run.dataset(preset, *run.examples(preset, "train", FLAGS.seed))
    return data, None, run.augmentation(preset, preset.L)


def _test_chunks(preset):
    if preset.test_examples == 0:
        return "all", [run.examples(preset, "all")]
    if FLAGS.data:
        return "test", run.shard_chunks(preset, FLAGS.data, "test")
    return "test", run.draws(preset, "test", FLAGS.seed)


def main(argv):
    del argv
    preset = _preset()
    if FLAGS.stream and FLAGS.data:
        raise InputError("--stream generates its data; drop --data or --stream")
    if FLAGS.stream and preset.augment:
        raise InputError("--stream draws fresh configurations every batch; symmetry "
                         "augmentation is for fixed training sets: add --noaugment")
    dist = Distribution(FLAGS.gpus, FLAGS.horovod)
    _claim_outputs(preset)
    tf.keras.utils.set_random_seed(FLAGS.seed)
    data, steps, transform = _training_data(preset, dist)
    config = TrainConfig(epochs=preset.epochs, batch_size=preset.batch_size,
                         optimizer=preset.optimizer, learning_rate=preset.learning_rate,
                         decay=preset.decay, loss=preset.loss, run_dir=FLAGS.run_dir,
                         checkpoint_every=FLAGS.checkpoint_every, steps_per_epoch=steps,
                         seed=FLAGS.seed,
                         target=(("accuracy" if preset.label == "label" else "mae"), FLAGS.target)
                         if FLAGS.target is not None else None)
    if dist.is_chief:
        logging.info("preset %s on %d replica(s): %s", preset.name, dist.replicas, preset)
    start = time.perf_counter()
    model, _ = train(lambda: run.build(preset), data, config, dist, transform=transform)
    seconds = time.perf_counter() - start
    if not dist.is_chief:
        return 0
    seen = (f"{int(data.cardinality())} examples" if not callable(data)
            else f"{steps * preset.batch_size} streamed examples an epoch")
    print(f"trained {preset.name} on {seen} in {seconds:.1f} s on {dist.replicas} replica(s)")
    split, chunks = _test_chunks(preset)
    figures, _, _, L = run.score_chunks(preset, model, chunks)
    print_figures(f"{split} ({L}x{L})", figures)
    if preset.kind == "ednn" and FLAGS.eval_L:
        chunks = run.draws(preset, "test", FLAGS.seed, count=64, L=FLAGS.eval_L,
                           sampler="thermal", temperature=2.269, n_equilibrate=1000)
        print_figures(f"thermal T_c ({FLAGS.eval_L}x{FLAGS.eval_L})",
                      run.score_chunks(preset, model, chunks)[0])
    if FLAGS.export:
        print(f"exported: {export.export(model, FLAGS.export, run.facts(preset))}")
    return 0
