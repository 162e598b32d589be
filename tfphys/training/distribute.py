"""Where training runs: CPU, N GPUs of one machine (MirroredStrategy) or Horovod ranks.

`Distribution` hides the difference from the training loop: a scope to build models in, the
rank and size, optimizer wrapping, the learning-rate scale, equal data shares and the callbacks
Horovod needs. Only the chief (rank 0) writes checkpoints, logs and exports.
"""

import contextlib

import tensorflow as tf

from tfphys.errors import InputError

_MIRRORED = {}


def mirrored(devices):
    """One MirroredStrategy per device list and process: strategies built separately over the
    same devices reuse collective keys, and their all-reduces clash once dtypes differ."""
    devices = tuple(devices)
    if devices not in _MIRRORED:
        _MIRRORED[devices] = tf.distribute.MirroredStrategy(list(devices))
    return _MIRRORED[devices]


class Distribution:
    """Training placement.

    gpus=0 runs on the CPU; gpus=N builds a MirroredStrategy over the first N GPUs (global
    batch split across replicas, gradients averaged); horovod=True runs one replica per process
    under `horovodrun` (gradients allreduced, rank 0 broadcasts the initial weights, the
    learning rate scales with the number of ranks). `devices` overrides the device list (tests
    use logical CPUs).
    """

    def __init__(self, gpus=0, horovod=False, devices=None):
        if gpus < 0:
            raise InputError(f"--gpus must be >= 0, got {gpus}")
        self.hvd = None
        self.rank, self.size = 0, 1
        if horovod:
            import horovod.tensorflow.keras as hvd

            hvd.init()
            self.hvd, self.rank, self.size = hvd, hvd.rank(), hvd.size()
            gpu_list = tf.config.list_physical_devices("GPU")
            if gpu_list:
                tf.config.set_visible_devices(gpu_list[hvd.local_rank() % len(gpu_list)], "GPU")
            self.strategy = tf.distribute.get_strategy()
        elif devices is not None:
            self.strategy = mirrored(devices)
        elif gpus:
            found = tf.config.list_physical_devices("GPU")
            if len(found) < gpus:
                raise InputError(f"--gpus {gpus} asks for {gpus} GPU(s) but TensorFlow sees "
                                 f"{len(found)}; use --gpus {len(found)} (0 = CPU) or check the "
                                 "CUDA install with bin/check_env")
            self.strategy = mirrored(f"/gpu:{i}" for i in range(gpus))
        else:
            self.strategy = tf.distribute.get_strategy()

    @property
    def is_chief(self):
        return self.rank == 0

    @property
    def replicas(self):
        """Model copies that share one optimizer step."""
        return self.size if self.hvd else self.strategy.num_replicas_in_sync

    def scope(self):
        """Build models and optimizers inside this."""
        return self.strategy.scope() if self.hvd is None else contextlib.nullcontext()

    def learning_rate(self, base):
        """Horovod's rule: the effective batch grows with the ranks, so does the rate."""
        return base * self.size

    def optimizer(self, optimizer):
        return self.hvd.DistributedOptimizer(optimizer) if self.hvd else optimizer

    def share(self, examples, n):
        """This rank's equal share of `n` unbatched examples: floor(n / size) of them, so every
        rank runs the same number of steps (the up to size - 1 left over are skipped; shuffle
        first and they change from epoch to epoch). Other placements see all of them."""
        if not self.hvd:
            return examples
        if n < self.size:
            raise InputError(f"{n} examples cannot be shared by {self.size} ranks")
        return examples.take(n // self.size * self.size).shard(self.size, self.rank)

    def callbacks(self):
        if not self.hvd:
            return []
        return [self.hvd.callbacks.BroadcastGlobalVariablesCallback(0),
                self.hvd.callbacks.MetricAverageCallback()]
