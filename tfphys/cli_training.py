"""The command line of bin/train_cnn and bin/train_ednn: absl flags mapped onto
`tfphys.training.spin_training.train_preset`, figures printed one JSON line each.

A script calls `define_flags(kind, default_preset)`, adopts this module's flags for --help and
runs `main` through `tfphys.cli.run`. Placement: --gpus N (MirroredStrategy; 0 = CPU) or
--horovod under horovodrun. Only the chief prints figures.
"""

from absl import flags

from tfphys import cli
from tfphys.training import presets, spin_training

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
    flags.DEFINE_enum("sampler", None, ["uniform", "targeted"], "Override how the preset's "
                      "configurations are drawn: uniform at random, or targeted sampling (a flat "
                      "energy histogram, which reaches the low energies Metropolis visits).")
    flags.DEFINE_integer("boltzmann_test", 0, "Also score this many Metropolis configurations "
                         "(several temperatures, both signs of J) of the preset's model; 0 skips.",
                         lower_bound=0)
    flags.DEFINE_enum("padding", None, ["periodic", "zeros"], "Override the convolution / tile "
                      "padding: periodic (wraps the lattice's edges) or zeros (the thesis's CNN).")
    flags.DEFINE_boolean("augment", None, "Override the preset: move each training example by a "
                         "random lattice symmetry (translation, rotation, reflection, spin flip) "
                         "every epoch. Fixed training sets only (--stream draws fresh data).")
    if kind == "ednn":
        flags.DEFINE_integer("context", None, "Override the EDNN context width c.", lower_bound=0)
        flags.DEFINE_integer("eval_L", 0, "Also score on L x L Ising configurations sampled at "
                             "T_c (the thesis uses 128); 0 skips.", lower_bound=0)


def main(argv):
    del argv
    overrides = {name: getattr(FLAGS, name) for name in spin_training.OVERRIDES if name in FLAGS}
    preset = spin_training.preset_with(FLAGS.preset, _KIND["kind"], **overrides)
    result = spin_training.train_preset(
        preset, data_dir=FLAGS.data, stream=FLAGS.stream, gpus=FLAGS.gpus, horovod=FLAGS.horovod,
        run_dir=FLAGS.run_dir, checkpoint_every=FLAGS.checkpoint_every, export_dir=FLAGS.export,
        seed=FLAGS.seed, target=FLAGS.target, eval_L=FLAGS.eval_L if "eval_L" in FLAGS else 0,
        boltzmann_test=FLAGS.boltzmann_test)
    if not result["is_chief"]:
        return 0
    print(f"trained {preset.name} on {result['examples']} in {result['seconds']:.1f} s on "
          f"{result['replicas']} replica(s)")
    cli.print_figures(f"{result['split']} ({result['L']}x{result['L']})", result["figures"])
    if "eval_figures" in result:
        cli.print_figures(f"thermal T_c ({result['eval_L']}x{result['eval_L']})",
                          result["eval_figures"])
    if "boltzmann_figures" in result:
        cli.print_figures(f"Boltzmann ({FLAGS.boltzmann_test} Metropolis configurations)",
                          result["boltzmann_figures"])
    if "export" in result:
        print(f"exported: {result['export']}")
    return 0
