"""The one training entry point for every tfphys model.

`train(build_model, data, config)` builds and compiles the model inside the placement's scope
(CPU, MirroredStrategy or Horovod), resumes from the latest checkpoint in `config.run_dir`,
and fits with a Keras progress bar, TensorBoard logs, checkpoints every `checkpoint_every`
steps and at each epoch end, and an optional stop once a metric reaches its target. Only the
chief writes files. Resuming restarts the interrupted epoch from its beginning.
"""

import dataclasses
import os

import tensorflow as tf

from tfphys.errors import InputError
from tfphys.training.distribute import Distribution

OPTIMIZERS = {"adam": tf.keras.optimizers.Adam, "adadelta": tf.keras.optimizers.Adadelta,
              "sgd": tf.keras.optimizers.SGD}
LOSSES = ("mse", "sparse_categorical_crossentropy")
DECAYS = ("constant", "cosine")


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
    steps_per_epoch: int = None
    decay: str = "constant"  # "constant" (the thesis) or "cosine" to 0 over all epochs
    verbose: int = 1

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {self.optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
        if self.decay not in DECAYS:
            raise InputError(f"unknown learning-rate decay {self.decay!r}; choose one of {DECAYS}")
        if self.loss not in LOSSES:
            raise InputError(f"unknown loss {self.loss!r}; choose one of {LOSSES}")
        if self.epochs < 1 or self.batch_size < 1 or not self.learning_rate > 0:
            raise InputError("epochs, batch_size and learning_rate must be positive")


class Checkpoints(tf.keras.callbacks.Callback):
    """tf.train checkpoints of model, optimizer, epoch and step; only the chief writes."""

    def __init__(self, directory, every_steps, is_chief):
        super().__init__()
        self.directory, self.every, self.is_chief = directory, int(every_steps), is_chief
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._manager = None

    def attach(self, model):
        """Restore the latest checkpoint into `model` (if any); returns the epoch to start at."""
        checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer, epoch=self.epoch,
                                         step=self.step)
        self._manager = tf.train.CheckpointManager(checkpoint, self.directory, max_to_keep=3)
        if self._manager.latest_checkpoint:
            # expect_partial: a finished run resumed only to export never builds the optimizer's
            # slots, which would otherwise print a warning per unrestored slot variable.
            checkpoint.restore(self._manager.latest_checkpoint).expect_partial()
        return int(self.epoch.numpy())

    def _save(self):
        if self.is_chief:
            self._manager.save(checkpoint_number=int(self.step.numpy()))

    def on_train_batch_end(self, batch, logs=None):
        self.step.assign_add(1)
        if self.every and int(self.step.numpy()) % self.every == 0:
            self._save()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.assign(epoch + 1)
        self._save()


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


def train(build_model, data, config, distribution=None, validation=None):
    """Build, compile and fit; returns (model, history). `data` yields (x, y) batches."""
    dist = distribution or Distribution()
    data = dist.shard(data)
    rate = dist.learning_rate(config.learning_rate)
    if config.decay == "cosine":
        steps = config.steps_per_epoch or int(data.cardinality())
        if steps < 1:
            raise InputError("cosine decay needs a finite dataset or steps_per_epoch")
        rate = tf.keras.optimizers.schedules.CosineDecay(rate, steps * config.epochs)
    with dist.scope():
        model = build_model()
        optimizer = OPTIMIZERS[config.optimizer](rate)
        classify = config.loss == "sparse_categorical_crossentropy"
        loss = (tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True) if classify
                else tf.keras.losses.MeanSquaredError())
        metrics = ["accuracy"] if classify else ["mae"]
        model.compile(optimizer=dist.optimizer(optimizer), loss=loss, metrics=metrics)
    callbacks = dist.callbacks()
    initial_epoch = 0
    if config.run_dir:
        checkpoints = Checkpoints(os.path.join(config.run_dir, "checkpoints"),
                                  config.checkpoint_every, dist.is_chief)
        initial_epoch = checkpoints.attach(model)
        callbacks.append(checkpoints)
        if dist.is_chief:
            callbacks.append(tf.keras.callbacks.TensorBoard(os.path.join(config.run_dir, "tensorboard")))
    if config.target:
        callbacks.append(StopAtTarget(*config.target))
    if initial_epoch >= config.epochs:
        return model, None
    history = model.fit(data, epochs=config.epochs, initial_epoch=initial_epoch,
                        steps_per_epoch=config.steps_per_epoch, validation_data=validation,
                        callbacks=callbacks, verbose=config.verbose if dist.is_chief else 0)
    return model, history
