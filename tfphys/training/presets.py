"""Named training runs: the thesis's spin-model experiments and small defaults.

A preset fixes the data (model, L, sampler, sizes, label), the network (Mills CNN or EDNN with
focus/context) and the optimisation (the thesis's tables: AdaDelta 1e-3 for the CNN, Adam 1e-4
with batch 2000 for the Ising EDNN). Command-line flags override any field. The thesis presets
keep the thesis's settings; the measured faster recipes (cosine decay, smaller batches, and for
the CNN periodic padding with symmetry augmentation) are the overrides in benchmarks/README.md.
"""

import dataclasses

from tfphys.errors import InputError


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    kind: str  # "cnn" | "ednn"
    L: int
    label: str  # "energy" | "magnetization" | "label" (energy class)
    model: str = "ising"  # a `tfphys.data.spins.MODELS` Hamiltonian
    sampler: str = "targeted"
    train_examples: int = 100000
    test_examples: int = 50000
    outputs: int = 1
    upscale_to: int = 0
    focus: int = 1
    context: int = 1
    padding: str = "periodic"
    augment: bool = False  # random lattice symmetries of each training example, every epoch
    optimizer: str = "adam"
    learning_rate: float = 1e-4
    batch_size: int = 2000
    epochs: int = 500
    decay: str = "constant"
    description: str = ""

    @property
    def loss(self):
        return "sparse_categorical_crossentropy" if self.label == "label" else "mse"


_CNN = dict(kind="cnn", upscale_to=16, optimizer="adadelta", learning_rate=1e-3, batch_size=1000,
            padding="zeros")
PRESETS = {p.name: p for p in [
    Preset("ising4_classify", L=4, label="label", outputs=15, train_examples=27000,
           test_examples=0, epochs=2000, description="4x4 energy classes from 27,000 targeted "
           "samples, evaluated on all 65,536 configurations (thesis: ~100 %)", **_CNN),
    Preset("ising8_classify", L=8, label="label", outputs=63, epochs=1000,
           description="8x8 energy classes, 100k train / 50k SHA3 test (thesis: 99.922 %)", **_CNN),
    Preset("ising8_regress", L=8, label="energy", epochs=1000,
           description="8x8 energy regression (thesis: median |error| 1.782 J)", **_CNN),
    Preset("ising8_magnetization", L=8, label="magnetization", epochs=1000,
           description="8x8 magnetization regression (thesis: 2e-3 per spin)", **_CNN),
    Preset("ising4_quick", L=4, label="label", outputs=15, train_examples=6000, test_examples=0,
           epochs=30, description="small 4x4 classifier for a CPU check in minutes (periodic "
           "padding, symmetry augmentation, Adam with cosine decay)",
           **{**_CNN, "optimizer": "adam", "learning_rate": 1e-3, "batch_size": 100,
              "decay": "cosine", "padding": "periodic", "augment": True}),
    Preset("screened_coulomb8_regress", L=8, label="energy", model="screened_coulomb",
           sampler="uniform", test_examples=20000, epochs=1000,
           description="8x8 screened Coulomb energy (r_cut 64), 100k random train / 20k test "
           "(thesis: median |error| 0.640 J)", **_CNN),
    Preset("sinusoidal8_regress", L=8, label="energy", model="sinusoidal", sampler="uniform",
           test_examples=20000, epochs=1000, description="8x8 sinusoidal screened Coulomb "
           "energy, 100k random train / 20k test (thesis: 0.253 J)", **_CNN),
    Preset("potts8_regress", L=8, label="energy", model="potts", sampler="uniform",
           train_examples=500000, test_examples=20000, epochs=1000,
           description="8x8 planar Potts energy, angles uniform in [0, pi), 500k train / 20k "
           "test (thesis: 0.542 J)", **_CNN),
    Preset("ednn_ising8", kind="ednn", L=8, label="energy",
           description="Ising EDNN f=1 c=1 (thesis: median |error| 0.028 J, 2.055 J at 128x128)"),
    Preset("ednn_ising8_c2", kind="ednn", L=8, label="energy", context=2,
           description="Ising EDNN f=1 c=2 (thesis: 1.090 J)"),
    Preset("ednn_ising8_c3", kind="ednn", L=8, label="energy", context=3,
           description="Ising EDNN f=1 c=3 (thesis: 14.8 J)"),
    Preset("ednn_quick", kind="ednn", L=8, label="energy", train_examples=8000,
           test_examples=2000, learning_rate=1e-3, batch_size=250, decay="cosine", epochs=40,
           description="the built-in Ising EDNN: trains on a CPU in a few minutes"),
]}


def get(name, kind=None):
    """The preset `name`; with `kind`, it must be of that kind ("cnn" or "ednn")."""
    choices = sorted(n for n, p in PRESETS.items() if kind in (None, p.kind))
    if name not in PRESETS or (kind and PRESETS[name].kind != kind):
        raise InputError(f"unknown {kind or ''} preset {name!r}; choose one of {choices}")
    return PRESETS[name]


def overridden(table, name, what, **overrides):
    """Preset `name` of `table` ({name: frozen dataclass} of `what` presets, e.g. "RUGAN") with
    its fields replaced by the non-None `overrides` (the flags of a bin/train_* script). A
    preset's own `select_from` (the first epoch model selection may keep) past a shorter run's
    epochs becomes the last epoch; one given in `overrides` stays for the run's checks."""
    if name not in table:
        raise InputError(f"unknown {what} preset {name!r}; choose one of {sorted(table)}")
    preset = dataclasses.replace(table[name], **{k: v for k, v in overrides.items()
                                                 if v is not None})
    own = None if overrides.get("select_from") else getattr(preset, "select_from", None)
    if own is not None and own > preset.epochs:
        preset = dataclasses.replace(preset, select_from=preset.epochs)
    return preset


def names(kind):
    return sorted(n for n, p in PRESETS.items() if p.kind == kind)
