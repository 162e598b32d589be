"""The command line of the bin/train_* scripts: the flags they share (preset, optimizer and
schedule, placement and run directory), and the spin trainers' (bin/train_cnn, bin/train_ednn)
flags and `main`, mapped onto `tfphys.training.spins.spin_training.train_preset`.

A script calls the `define_*` functions it needs, then `flags.adopt_module_key_flags` of this
module so that --help lists them. Placement: --gpus N (MirroredStrategy; 0 = CPU) or --horovod
under horovodrun. Only the chief prints figures.
"""

from absl import flags

from tfphys import cli
from tfphys.training import presets
from tfphys.training.spins import spin_training

FLAGS = flags.FLAGS
_KIND = {}
_RUN_HELP = {
    "gpus": "GPUs for MirroredStrategy on this machine; 0 trains on the CPU.",
    "horovod": "Run as one Horovod rank (start with horovodrun -np K).",
    "run_dir": "Directory for checkpoints and TensorBoard logs; rerunning with the same "
               "directory resumes from the latest checkpoint.",
    "checkpoint_every": "Also checkpoint every N steps (0: at epoch ends only).",
    "export": "Export the trained model (SavedModel + tfphys.json) to this directory.",
    "seed": "Seed for data, shuffling, augmentation and initial weights.",
}


def define_preset_flag(named, default):
    """--preset: a name of `named` ({name: preset with a description})."""
    flags.DEFINE_enum("preset", default, sorted(named), "Named run; flags below override its "
                      "fields. " + "; ".join(f"{n}: {p.description}" for n, p in named.items()))


def define_schedule_flags(warmup=True, stop_flag=None):
    """Overrides of the preset's optimizer, rate, batch, epochs and decay (and warm-up);
    `stop_flag` names the script's early-stop flag, which --epochs' help then mentions."""
    flags.DEFINE_enum("optimizer", None, ["adam", "adadelta", "sgd"],
                      "Override the preset's optimizer.")
    flags.DEFINE_float("learning_rate", None, "Override the base learning rate (Horovod "
                       "multiplies it by the number of ranks).", lower_bound=0.0)
    flags.DEFINE_integer("batch_size", None, "Override the batch size (global under --gpus, per "
                         "rank under --horovod).", lower_bound=1)
    stops = f" (the most: --{stop_flag} may stop the run earlier)" if stop_flag else ""
    flags.DEFINE_integer("epochs", None, f"Override the number of training epochs{stops}.",
                         lower_bound=1)
    flags.DEFINE_enum("decay", None, ["constant", "cosine"], "Override the learning-rate "
                      "schedule: constant (the thesis) or cosine decay to zero over the run.")
    if warmup:
        flags.DEFINE_integer("warmup_steps", None, "Override: raise the learning rate linearly "
                             "from 0 over these first steps (fine-tuning from --init: a fresh "
                             "Adam's first full steps throw the weights off).", lower_bound=0)


def define_run_flags(**help_texts):
    """--gpus, --horovod, --run_dir, --checkpoint_every, --export, --seed; `help_texts`
    replaces the help of any of them (what a GAN exports, what its seed draws)."""
    text = {**_RUN_HELP, **help_texts}
    flags.DEFINE_integer("gpus", 0, text["gpus"], lower_bound=0)
    flags.DEFINE_bool("horovod", False, text["horovod"])
    flags.DEFINE_string("run_dir", None, text["run_dir"])
    flags.DEFINE_integer("checkpoint_every", 0, text["checkpoint_every"], lower_bound=0)
    flags.DEFINE_string("export", None, text["export"])
    flags.DEFINE_integer("seed", 0, text["seed"])


def overrides(names):
    """{name: value} of the flags among `names` (a training module's OVERRIDES) this script has."""
    return {name: getattr(FLAGS, name) for name in names if name in FLAGS}


def define_flags(kind, default_preset):
    """Define the training flags for a script training `kind` ("cnn" or "ednn") models."""
    _KIND["kind"] = kind
    define_preset_flag({n: presets.PRESETS[n] for n in presets.names(kind)}, default_preset)
    define_schedule_flags(warmup=False, stop_flag="target")
    define_run_flags()
    flags.DEFINE_string("data", None, "Shard directory from bin/generate_spins (its SHA3 split "
                        "gives train and test); default: generate the preset's data in memory.")
    flags.DEFINE_bool("stream", False, "Stream freshly generated batches from the preset's sampler "
                      "instead of a fixed training set (an epoch = train_examples examples).")
    flags.DEFINE_integer("train_examples", None, "Override the number of generated training "
                         "examples.", lower_bound=1)
    flags.DEFINE_integer("test_examples", None, "Override the number of generated test examples.",
                         lower_bound=1)
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
    preset = spin_training.preset_with(FLAGS.preset, _KIND["kind"],
                                       **overrides(spin_training.OVERRIDES))
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
