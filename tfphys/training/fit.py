"""The one training entry point for every tfphys model.

`train(build_model, data, config)` builds and compiles the model inside the placement's scope
(CPU, MirroredStrategy or Horovod), resumes from the latest checkpoint in `config.run_dir`,
and fits with a Keras progress bar, TensorBoard logs, checkpoints every `checkpoint_every`
steps and at each epoch end, and an optional stop once a metric reaches its target. Only the
chief writes files.

Exact resumption: the batches of epoch e are a pure function of (seed, e) -- the shuffle order
and any augmentation are drawn from seeds, not from the state of an iterator -- so a run
restored from a checkpoint at any step, mid-epoch included, regenerates the remaining batches
of that epoch and ends with the weights of an uninterrupted run.

Equal steps on every rank: under Horovod each rank takes floor(N / ranks) examples of each
epoch's shuffled order (the up to ranks - 1 examples left over differ from epoch to epoch), so
all ranks run the same number of steps and their allreduces always pair up.

A loss that becomes NaN or infinite stops the run with `TrainingDiverged` (exit 1 in bin/).

Mixed precision (`config.precision`, Keras's policies): the model trains with its layers
computing in bfloat16 (CPUs with AVX512-BF16 or AMX, GPUs since Ampere) or float16 (GPUs, with
Keras's loss scaling) on float32 weights, and `train` returns a float32 twin holding the trained
weights, so that what is scored and exported computes in float32 everywhere.
"""

import dataclasses
import json
import math
import os
import sys
import tempfile

import numpy as np
import tensorflow as tf

from tfphys import outputs
from tfphys.errors import InputError, TrainingDiverged
from tfphys.training import export
from tfphys.training.distribute import Distribution

OPTIMIZERS = {"adam": tf.keras.optimizers.Adam, "adadelta": tf.keras.optimizers.Adadelta,
              "sgd": tf.keras.optimizers.SGD}
LOSSES = ("mse", "sparse_categorical_crossentropy")
DECAYS = ("constant", "cosine")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
SCHEDULE = ("epochs", "batch_size", "optimizer", "learning_rate", "decay", "warmup_steps",
            "select_from", "precision")


@dataclasses.dataclass
class TrainConfig:
    """Hyper-parameters and bookkeeping of one training run (defaults: the Ising EDNN's)."""

    epochs: int = 10
    batch_size: int = 2000
    optimizer: str = "adam"
    learning_rate: float = 1e-4
    loss: str = "mse"
    run_dir: str = None
    checkpoint_every: int = 0
    target: tuple = None  # (metric name, value): stop once reached (min for errors, max for accuracy)
    steps_per_epoch: int = None  # streamed data only; fixed example sets give their own count
    decay: str = "constant"  # "constant" (the thesis) or "cosine" to 0 over all epochs
    warmup_steps: int = 0  # the rate rises linearly from 0 over these first steps, then decays:
    # a fresh Adam's first full-size steps throw `init` weights off (fine-tuning)
    seed: int = 0  # shuffle order and augmentation draws of every epoch
    shuffle_buffer: int = 1 << 20  # examples; the whole set when smaller
    verbose: int = None  # Keras: 1 progress bar, 2 one line per epoch, 0 silent; None: 1 on a terminal
    init: str = None  # an export whose weights the model starts from (fine-tuning); a run dir's
    # checkpoint, when there is one, is restored over them
    init_widens: bool = False  # `init`'s layers may be narrower: grown (start_from)
    select_from: int = 1  # model selection (`select`) keeps the best epoch from this one on
    precision: str = "float32"  # or a Keras mixed policy (PRECISIONS): see the module's doc

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {self.optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
        if self.precision not in PRECISIONS:
            raise InputError(f"unknown precision {self.precision!r}; choose one of {PRECISIONS}")
        if self.decay not in DECAYS:
            raise InputError(f"unknown learning-rate decay {self.decay!r}; choose one of {DECAYS}")
        if self.loss not in LOSSES:
            raise InputError(f"unknown loss {self.loss!r}; choose one of {LOSSES}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name} must be >= 1, got {getattr(self, name)}")
        if not 1 <= self.select_from <= self.epochs:
            raise InputError(f"--select_from must be an epoch of the run (1 to {self.epochs}), "
                             f"got {self.select_from}")
        if self.warmup_steps < 0:
            raise InputError(f"--warmup_steps must be >= 0, got {self.warmup_steps}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise InputError(f"--learning_rate must be a positive finite number, got {self.learning_rate}")
        if self.verbose is None:
            self.verbose = 1 if sys.stdout.isatty() else 2

    @classmethod
    def of(cls, preset, **run):
        """The config of a run of `preset` (any preset dataclass): its schedule fields (those of
        SCHEDULE it has; the others keep these defaults) plus `run`'s bookkeeping, which
        overrides them."""
        return cls(**{**{name: getattr(preset, name) for name in SCHEDULE
                         if hasattr(preset, name)}, **run})


def claim_run_dir(path):
    """Check before any work that `path` may hold a run (new, empty or an earlier run)."""
    return outputs.claim_dir(path, "checkpoints", "tfphys run directory", "--run_dir")


def claim_outputs(run_dir=None, exports=()):
    """Check before any work that the run dir and every export dir may be written."""
    for path in exports:
        export.claim(path)
    if run_dir:
        claim_run_dir(run_dir)


def _weights(path):
    """{key: shape} of the model weights in a checkpoint (not its optimizers' variables)."""
    return {k: shape for k, shape in tf.train.list_variables(path)
            if k.startswith("model/") and "optimizer" not in k.lower()}


def _model_mismatch(model, path):
    """How the model variables stored in checkpoint `path` differ from `model`'s, or None."""
    with tempfile.TemporaryDirectory() as probe:
        written = tf.train.Checkpoint(model=model).write(os.path.join(probe, "model"))
        ours = _weights(written)
    stored = _weights(path)
    for key in sorted(set(ours) | set(stored)):
        if ours.get(key) != stored.get(key):
            return f"{key.split('/.ATTRIBUTES')[0]}: {stored.get(key)} stored, {ours.get(key)} built"
    return None


class Checkpoints(tf.keras.callbacks.Callback):
    """tf.train checkpoints of model, optimizer, global step and steps per epoch (the step
    says where in which epoch to resume); only the chief writes."""

    def __init__(self, directory, every_steps, is_chief, steps_per_epoch):
        super().__init__()
        self.directory, self.every, self.is_chief = directory, int(every_steps), is_chief
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.steps_per_epoch = int(steps_per_epoch)
        self._stored_steps = tf.Variable(self.steps_per_epoch, dtype=tf.int64, trainable=False)
        self._manager = None

    def attach(self, model):
        """Restore the latest checkpoint into `model` (if any); returns the global step."""
        # a model's own optimizers (make_optimizers) are attributes of it, saved with it
        checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer, step=self.step,
                                         steps_per_epoch=self._stored_steps)
        self._manager = tf.train.CheckpointManager(checkpoint, self.directory, max_to_keep=3)
        latest = self._manager.latest_checkpoint
        if latest:
            problem = _model_mismatch(model, latest)
            if problem:
                raise InputError(f"the checkpoint in {self.directory} is from a different model "
                                 f"({problem}); resume with the flags it was trained with or use "
                                 "another --run_dir")
            # expect_partial: a finished run resumed only to export never builds the optimizer's
            # slots, which would otherwise print a warning per unrestored slot variable.
            checkpoint.restore(latest).expect_partial()
            if int(self._stored_steps.numpy()) != self.steps_per_epoch:
                raise InputError(f"the run in {self.directory} took {int(self._stored_steps.numpy())} "
                                 f"steps an epoch, this one takes {self.steps_per_epoch}: resume "
                                 "with the same examples and batch size, or use another --run_dir")
        return int(self.step.numpy())

    def _save(self):
        if self.is_chief:
            self._manager.save(checkpoint_number=int(self.step.numpy()))

    def on_train_batch_end(self, batch, logs=None):
        self.step.assign_add(1)
        if self.every and int(self.step.numpy()) % self.every == 0:
            self._save()

    def on_epoch_end(self, epoch, logs=None):
        if not self.every or int(self.step.numpy()) % self.every:
            self._save()


class KeepBest(tf.keras.callbacks.Callback):
    """Model selection over epochs (the RUGAN paper's, supplementary A.3): after each epoch
    `score(model)` (lower is better; for a generator, e.g. how far what it makes is from the
    training data) is logged as `selection`, and the weights of the best epoch so far are kept.
    With a `directory` (the chief's run dir) they are also saved there, so a resumed run keeps
    the best epoch from before the interruption. Epochs before `start` (1-based) are scored
    but never kept (a GAN's discriminator, used afterwards, needs time to mature).
    `restore(model)` loads them at the end."""

    def __init__(self, score, directory=None, is_chief=True, start=1):
        super().__init__()
        self.score, self.is_chief, self.start = score, is_chief, start
        self.best, self.best_epoch, self.weights = math.inf, None, None
        self.paths = (os.path.join(directory, "best.weights.npz"),
                      os.path.join(directory, "best.json")) if directory else None
        if self.paths and os.path.exists(self.paths[1]):
            with open(self.paths[1]) as handle:
                stored = json.load(handle)
            self.best, self.best_epoch = stored["score"], stored["epoch"]
            with np.load(self.paths[0]) as saved:
                self.weights = [saved[f"w{i}"] for i in range(len(saved.files))]

    def on_epoch_end(self, epoch, logs=None):
        value = float(self.score(self.model))
        if logs is not None:
            logs["selection"] = value
        if value < self.best and epoch + 1 >= self.start:
            self.best, self.best_epoch = value, epoch + 1
            self.weights = [np.array(w) for w in self.model.get_weights()]
            if self.paths and self.is_chief:
                os.makedirs(os.path.dirname(self.paths[0]), exist_ok=True)
                outputs.atomic_write(self.paths[0], lambda handle: np.savez(
                    handle, **{f"w{i}": w for i, w in enumerate(self.weights)}))
                outputs.atomic_write(self.paths[1], lambda handle: handle.write(json.dumps(
                    {"score": self.best, "epoch": self.best_epoch}).encode()))

    def restore(self, model):
        if self.weights is not None:
            model.set_weights(self.weights)


class StopAtTarget(tf.keras.callbacks.Callback):
    """Stop training once `metric` reaches `value` (lower is better unless it is an accuracy)."""

    def __init__(self, metric, value):
        super().__init__()
        self.metric, self.value = metric, float(value)
        self.higher_is_better = "acc" in metric

    def on_epoch_end(self, epoch, logs=None):
        got = (logs or {}).get(self.metric)
        if got is None:
            raise InputError(f"target metric {self.metric!r} is not logged; logged: {sorted(logs or {})}")
        if (got >= self.value) if self.higher_is_better else (got <= self.value):
            self.model.stop_training = True


class _OneEpochPerFit(tf.keras.callbacks.Callback):
    """Ends each `fit` call after one epoch (the progress bar still shows 'Epoch e/E') and
    remembers whether another callback asked to stop (a target, EarlyStopping, a time limit):
    `train` then ends the run. Runs after every other callback."""

    stopped = False

    def on_epoch_end(self, epoch, logs=None):
        self.stopped = self.stopped or self.model.stop_training
        self.model.stop_training = True


class _WholeRun(tf.keras.callbacks.Callback):
    """A user's callback (EarlyStopping, ReduceLROnPlateau ...) seeing the run as the one `fit`
    it was written for: `train` fits one epoch per call, so `on_train_begin` (where Keras
    callbacks reset their state) reaches it once and `on_train_end` once, from `finish`."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.begun = inner, False

    def set_model(self, model):
        super().set_model(model)
        self.inner.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        self.inner.set_params(params)

    def on_train_begin(self, logs=None):
        if not self.begun:
            self.begun = True
            self.inner.on_train_begin(logs)

    def finish(self):
        if self.begun:
            self.inner.on_train_end()


for _hook in ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
              "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end"):
    setattr(_WholeRun, _hook, lambda self, *args, _hook=_hook: getattr(self.inner, _hook)(*args))


class Pictures(tf.keras.callbacks.Callback):
    """TensorBoard images and histograms of what the model makes, at the end of every `every`-th
    epoch: `draw(model)` returns {"images": {name: (n, H, W) in [-1, 1]}, "histograms": {name:
    values}} (for a generator: a grid of sample lattices, their energies and magnetizations)."""

    def __init__(self, directory, draw, every=1):
        super().__init__()
        self.draw, self.every = draw, int(every)
        self.writer = tf.summary.create_file_writer(directory)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        drawn = self.draw(self.model)
        with self.writer.as_default(step=epoch + 1):
            for name, images in drawn.get("images", {}).items():
                pixels = (np.asarray(images, np.float32)[..., None] + 1) / 2
                tf.summary.image(name, pixels, max_outputs=len(pixels))
            for name, values in drawn.get("histograms", {}).items():
                tf.summary.histogram(name, np.asarray(values, np.float64))
        self.writer.flush()


class FailOnNonFinite(tf.keras.callbacks.Callback):
    """Raise `TrainingDiverged` as soon as a logged loss or metric is NaN or infinite (nothing
    is exported)."""

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if np.ndim(value) == 0 and not np.isfinite(value):
                raise TrainingDiverged(f"training diverged: {name} became {value} at batch "
                                       f"{batch + 1}; lower --learning_rate or check the labels "
                                       "for NaN")


def _examples(data, name):
    """Number of examples in a finite, unbatched dataset (InputError if unknown or empty)."""
    n = int(data.cardinality())
    if n == tf.data.INFINITE_CARDINALITY or n == tf.data.UNKNOWN_CARDINALITY:
        raise InputError(f"the {name} dataset has no known size; pass a finite example dataset "
                         "(tf.data.experimental.assert_cardinality) or a per-epoch callable "
                         "with steps_per_epoch")
    if n < 1:
        raise InputError(f"the {name} dataset is empty")
    return n


def epoch_batches(examples, epoch, config, dist, transform=None, shuffle=True):
    """Batches of one epoch: a seeded shuffle, this rank's equal share, `transform(ds, seed)`
    (e.g. symmetry augmentation drawn from `seed`), then batches of `config.batch_size`."""
    n = _examples(examples, "training" if shuffle else "validation")
    seed = [config.seed, epoch]
    ds = examples
    if shuffle:
        epoch_seed = int(np.random.SeedSequence(seed).generate_state(1, np.uint32)[0])
        ds = ds.shuffle(min(n, config.shuffle_buffer), seed=epoch_seed, reshuffle_each_iteration=False)
    ds = dist.share(ds, n)
    if transform is not None:
        ds = transform(ds, seed)
    return ds.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(data, config, dist):
    """Optimizer steps per epoch: the same on every rank."""
    if callable(data):
        if not config.steps_per_epoch:
            raise InputError("streamed data (a per-epoch callable) needs steps_per_epoch")
        return config.steps_per_epoch
    per_rank = _examples(data, "training") // (dist.size if dist.hvd is not None else 1)
    return max(1, -(-per_rank // config.batch_size))


def start_from(model, path, stored, grown=None, widens=False):
    """Give `model` the weights `stored` of the export at `path` (InputError naming the first
    weight whose shape differs: another architecture, class count or channel count). `grown`:
    the name prefix of layers an export may lack, which then keep their initial weights (blocks
    that begin as the identity, e.g. the RUGAN generator's reach blocks). `widens`: layers may
    have more channels or a larger window than the export's (`_widened`), and start as
    the export's function."""
    targets = model.weights
    if grown and len(stored) != len(targets):
        targets = [w for w in targets if not w.name.startswith(grown)]
    if len(stored) != len(targets):
        raise InputError(f"--init {path} holds {len(stored)} weights, this model "
                         f"{len(targets)}: it was trained with another architecture")
    values = []
    for built, saved in zip(targets, stored):
        if built.shape == saved.shape:
            values.append(saved.numpy())
        elif widens and _widenable(saved.shape, built.shape):
            values.append(_widened(saved.numpy(), built.numpy()))
        else:
            raise InputError(f"--init {path} does not fit this model: {saved.name} is "
                             f"{saved.shape.as_list()}, here {built.shape.as_list()}")
    tf.keras.backend.batch_set_value(list(zip(targets, values)))


def _widenable(saved, built):
    """Whether a `saved` weight fits in `built` grown along its channel axes (the last two: a
    kernel's inputs and outputs, a bias's units) and, for a convolution kernel, evenly on both
    sides of its window (an EDNN sliding dense layer whose context grew by its total stride)."""
    window = len(saved) - 2
    return len(saved) == len(built) and all(
        s <= b and (axis >= window or (b - s) % 2 == 0)
        for axis, (s, b) in enumerate(zip(saved, built)))


def _widened(saved, initial):
    """`saved` (a kernel or bias) in a wider weight (Net2Net-style): in the leading corner of the
    channel axes and the middle of a grown window. New output units keep their `initial` values
    (random, so they differ); the saved units read nothing new (zero weights on new input
    channels and window positions), so the widened layers compute what the saved ones did."""
    grown = initial.copy()
    if grown.ndim > 1:
        grown[..., saved.shape[-2]:, :] = 0.0
        grown[..., :saved.shape[-1]] = 0.0
    window = grown.ndim - 2
    grown[tuple(slice((b - s) // 2, (b - s) // 2 + s) if axis < window else slice(0, s)
                for axis, (s, b) in enumerate(zip(saved.shape, grown.shape)))] = saved
    return grown


def built(build_model, precision="float32"):
    """`build_model()` with its layers made under the Keras mixed policy `precision` (the
    global policy is restored after; "float32" leaves it alone, so a caller's floatx, e.g.
    float64, holds). A mixed model must give float32 outputs (its last layers float32, as Keras
    advises): a sum of many low-precision contributions, or a loss on them, loses the digits
    training needs."""
    if precision == "float32":
        return build_model()
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy(precision)
    try:
        model = build_model()
    finally:  # None: back to following floatx, as before any policy was set
        same = previous.name == tf.keras.backend.floatx()
        tf.keras.mixed_precision.set_global_policy(None if same else previous)
    low = [out.name for out in model.outputs or () if out.dtype != tf.float32]
    if low:
        raise InputError(f"{model.name} gives {', '.join(low)} in lower precision than float32 "
                         f"under {precision}; train it in float32 (TrainConfig.precision, "
                         "--precision float32)")
    return model


def train(build_model, data, config, distribution=None, validation=None, transform=None,
          callbacks=(), pictures=None, select=None):
    """Build, compile and fit; returns (model, history) (history None if nothing was left).

    A model that brings its own `train_step` defines `make_optimizers(config, schedule) ->
    {compile keyword: optimizer}` (`schedule(base_rate, updates=1)`: the rate scaled for the
    placement, e.g. x ranks under Horovod, and decayed as `config.decay` says for an optimizer
    updating `updates` times per step) and a `compile` taking
    those keywords; its train_step updates with `optimizer.minimize(loss, variables, tape=tape)`
    (Horovod allreduces there, not in apply_gradients) and divides each replica's mean loss by
    the strategy's replica count (MirroredStrategy sums replica gradients). Everything else
    (checkpoints of all its parts and optimizers, exact resume, placements, TensorBoard, target
    stop, divergence stop, model selection) is the same as for other models.

    `data` is either a finite dataset of unbatched examples ((x, y), or whatever the model's
    own train_step takes; shuffled, sharded across
    Horovod ranks and batched here; `transform(ds, seed)` augments each epoch) or a callable
    `epoch -> dataset of batches` for streamed data (with `config.steps_per_epoch`), which
    must give the same batches whenever it is called for the same epoch. `validation` is an
    unbatched example dataset scored after every epoch; `callbacks` are extra Keras callbacks
    (one that sets `model.stop_training`, e.g. EarlyStopping, ends the run as in `Model.fit`);
    `pictures(model)` (see `Pictures`) adds images and histograms to TensorBoard each epoch.
    `select(model)` (lower is better) scores every epoch; the model returned then holds the
    weights of the best-scoring epoch from `config.select_from` on (`KeepBest`), and
    `history.best_epoch` says which.
    `config.init` names an export whose weights the built model starts from (`start_from`).
    Under a mixed `config.precision` the model returned is a float32 twin with the trained
    weights (not compiled).
    """
    dist = distribution or Distribution()
    steps = steps_per_epoch(data, config, dist)
    total = steps * config.epochs
    if config.warmup_steps >= total:
        raise InputError(f"--warmup_steps {config.warmup_steps} leaves nothing of this run's "
                         f"{total} steps: give fewer")

    def schedule(base, updates=1):
        """A base learning rate scaled for the placement, warmed up over `config.warmup_steps`
        and decayed as `config.decay` says (alpha 1: constant after the warm-up), for an
        optimizer making `updates` updates per training step (it counts its own)."""
        rate = dist.learning_rate(base)
        if config.warmup_steps:
            return tf.keras.optimizers.schedules.CosineDecay(
                0.0, (total - config.warmup_steps) * updates,
                alpha=float(config.decay == "constant"), warmup_target=rate,
                warmup_steps=config.warmup_steps * updates)
        if config.decay == "cosine":
            return tf.keras.optimizers.schedules.CosineDecay(rate, total * updates)
        return rate

    rate = schedule(config.learning_rate)
    initial = export.load(config.init).weights if config.init else None  # outside the scope
    with dist.scope():
        model = built(build_model, config.precision)
        if initial is not None:
            start_from(model, config.init, initial, widens=config.init_widens)
        if hasattr(model, "make_optimizers"):
            # a model with its own train_step and optimizers (e.g. a critic and a generator):
            # it names them, they are wrapped for the placement and passed to its compile
            made = model.make_optimizers(config, schedule)
            model.compile(**{name: dist.optimizer(opt) for name, opt in made.items()})
        else:
            classify = config.loss == "sparse_categorical_crossentropy"
            loss = (tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True) if classify
                    else tf.keras.losses.MeanSquaredError())
            model.compile(optimizer=dist.optimizer(OPTIMIZERS[config.optimizer](rate)), loss=loss,
                          metrics=["accuracy"] if classify else ["mae"])
    hooks = dist.callbacks() + [FailOnNonFinite()]
    keep = None
    if select is not None:  # before the checkpoints: a saved epoch always has its best saved
        keep = KeepBest(select, config.run_dir, dist.is_chief, config.select_from)
        hooks.append(keep)
    step = 0
    if config.run_dir:
        checkpoints = Checkpoints(os.path.join(config.run_dir, "checkpoints"),
                                  config.checkpoint_every, dist.is_chief, steps)
        step = checkpoints.attach(model)
        hooks.append(checkpoints)
        if dist.is_chief:
            board = os.path.join(config.run_dir, "tensorboard")
            hooks.append(tf.keras.callbacks.TensorBoard(board))
            if pictures is not None:
                hooks.append(Pictures(os.path.join(board, "pictures"), pictures))
    target = StopAtTarget(*config.target) if config.target else None
    one_epoch, whole = _OneEpochPerFit(), [_WholeRun(c) for c in callbacks]
    hooks += ([target] if target else []) + whole + [one_epoch]
    if validation is not None:
        validation = epoch_batches(validation, 0, config, dist, shuffle=False)
    first_epoch, done = divmod(step, steps)
    history = None
    for epoch in range(first_epoch, config.epochs):
        batches = data(epoch) if callable(data) else epoch_batches(data, epoch, config, dist, transform)
        skip = done if epoch == first_epoch else 0
        # Keras counts steps per fit call: one call per epoch lets a resumed epoch run only the
        # batches it had not yet trained on
        part = model.fit(batches.skip(skip), epochs=config.epochs, initial_epoch=epoch,
                         steps_per_epoch=steps - skip, validation_data=validation,
                         callbacks=hooks, verbose=config.verbose if dist.is_chief else 0)
        if history is None:
            history = part
        else:
            history.epoch += part.epoch
            for key, values in part.history.items():
                history.history.setdefault(key, []).extend(values)
        if one_epoch.stopped:
            break
    for callback in whole:
        callback.finish()
    if keep is not None:
        keep.restore(model)
        if history is None:  # a resumed run with no epoch left: the best saved before it
            history = tf.keras.callbacks.History()
            history.epoch, history.history = [], {}
        history.best_epoch = keep.best_epoch
    if config.precision != "float32":
        with dist.scope():
            twin = built(build_model)
        twin.set_weights(model.get_weights())
        model = twin
    return model, history
