"""RUGAN networks (thesis, supplementary A): a residual, fully convolutional, periodic generator
and a residual critic, with the labels they are conditioned on as extra channels.

The generator has only convolutions, nearest-neighbour x2 upsamplings and periodic padding, so
it is translation-equivariant on the torus and a latent block of l x l gives an L = 4l lattice
of any size (train at 16, generate at 64 from the same weights). Its tanh output is the spin
value in [-1, 1]. The critic has no batch normalization (the gradient penalty needs per-sample
gradients), average pooling between residual blocks and `dropout` (25 % in the thesis) on two
layers, which the consistency term (Eq. 7c) uses. `gradient_penalty` is Eq. 7b with the
interpolation weights given (uniform in [0, 1]) and an epsilon inside the square root.

`RUGAN` pairs them with the conditional WGAN-GP objective and its own train step (10 critic
updates per generator update, Adam 1e-4, beta_1 = 0, beta_2 = 0.9), trained through
`tfphys.training.fit.train`. Every random number it draws (latents, interpolation weights,
dropout masks) is a stateless function of a seed and checkpointed counters, so a resumed run
repeats an uninterrupted one exactly.
"""

import contextlib

import numpy as np
import tensorflow as tf

from tfphys.models.padding import PeriodicDilatedConv2D, PeriodicPadding2D
from tfphys.physics.spins import ising

UPSAMPLINGS = 2  # latent l x l -> lattice 4l x 4l


@tf.keras.utils.register_keras_serializable("tfphys")
class LabelChannels(tf.keras.layers.Layer):
    """(maps (batch, H, W, C), labels (batch, k)) -> (batch, H, W, C + k): each label as a
    constant channel, so conditioning works at any lattice size."""

    def call(self, inputs):
        maps, labels = inputs
        shape = tf.shape(maps)
        planes = tf.tile(labels[:, None, None, :], [1, shape[1], shape[2], 1])
        return tf.concat([maps, tf.cast(planes, maps.dtype)], axis=-1)


@tf.keras.utils.register_keras_serializable("tfphys")
class CountedDropout(tf.keras.layers.Layer):
    """Dropout whose masks are a stateless function of (`seed`, a call counter kept as a
    non-trainable weight): the same masks after a checkpoint restore, unlike Keras's Dropout."""

    def __init__(self, rate, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.seed = float(rate), int(seed)

    def build(self, input_shape):
        self.calls = self.add_weight(
            name="calls", shape=(), dtype=tf.int64, trainable=False, initializer="zeros",
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def call(self, x, training=None):
        if not training or not self.rate:
            return x
        self.calls.assign_add(1)
        keep = tf.random.stateless_uniform(tf.shape(x), tf.stack([tf.constant(self.seed, tf.int64),
                                                                  self.calls])) >= self.rate
        return tf.where(keep, x / (1 - self.rate), tf.zeros_like(x))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def label_inputs(maps, labels):
    """The model inputs ([maps] or [maps, labels]) and the maps with the labels as channels."""
    if not labels:
        return [maps], maps
    label = tf.keras.Input((labels,), name="labels")
    return [maps, label], LabelChannels(name="label_channels")([maps, label])


def _conv(x, filters, kernel, name, activation=None, stride=1):
    """A periodic 'same' convolution: the lattice is a torus (stride > 1 needs a known size)."""
    if kernel > 1:
        x = PeriodicPadding2D(kernel, stride, name=f"{name}_pad")(x)
    return tf.keras.layers.Conv2D(filters, kernel, stride, padding="valid", activation=activation,
                                  name=name)(x)


def _up_block(x, filters, name):
    """Residual block that doubles the lattice: nearest x2, two periodic 3x3 convolutions."""
    up = tf.keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    h = _conv(tf.keras.layers.ReLU(name=f"{name}_relu1")(up), filters, 3, f"{name}_conv1")
    h = _conv(tf.keras.layers.ReLU(name=f"{name}_relu2")(h), filters, 3, f"{name}_conv2")
    return tf.keras.layers.Add(name=f"{name}_sum")([_conv(up, filters, 1, f"{name}_skip"), h])


def _down_block(x, filters, name, dropout=0.0):
    """Residual critic block that halves the lattice (average pooling), optional dropout."""
    h = _conv(tf.keras.layers.LeakyReLU(0.2, name=f"{name}_act1")(x), filters, 3, f"{name}_conv1")
    if dropout:
        h = CountedDropout(dropout, seed=len(name), name=f"{name}_dropout")(h)
    h = _conv(tf.keras.layers.LeakyReLU(0.2, name=f"{name}_act2")(h), filters, 3, f"{name}_conv2")
    h = tf.keras.layers.AveragePooling2D(2, name=f"{name}_pool")(h)
    skip = tf.keras.layers.AveragePooling2D(2, name=f"{name}_skip_pool")(
        _conv(x, filters, 1, f"{name}_skip"))
    return tf.keras.layers.Add(name=f"{name}_sum")([skip, h])


def _reach_block(x, filters, dilation, name):
    """Residual block at the latent scale whose taps are `dilation` latent cells apart. Its
    output convolution starts at zero, so a generator grown by such blocks begins as the one it
    grew from (`REACH` names them for `fit.start_from`)."""
    h = PeriodicDilatedConv2D(filters, dilation, name=f"{name}_conv1")(
        tf.keras.layers.ReLU(name=f"{name}_relu1")(x))
    h = tf.keras.layers.Conv2D(filters, 1, kernel_initializer="zeros", name=f"{name}_conv2")(
        tf.keras.layers.ReLU(name=f"{name}_relu2")(h))
    return tf.keras.layers.Add(name=f"{name}_sum")([x, h])


REACH = "reach"  # the name prefix of the reach blocks


def generator(latent_channels=32, labels=2, filters=64, reach=0, name="rugan_generator"):
    """Latent (batch, l, l, latent_channels) and labels (batch, labels) -> spins
    (batch, 4l, 4l, 1). `reach` > 0 adds that many residual blocks at the latent scale with
    taps 2, 4, ... 2^reach latent cells apart (not in the thesis): one output site then depends
    on a window of 2^(reach + 2) + 2 latent cells, 4x as many sites (reach 3: 34 cells = 136
    sites; without: 6 cells = 24 sites), so it can place domain walls as far apart as a 64 x 64
    lattice needs (two domains of 32). A window wider than the latent wraps around the torus
    (at l = 4, taps 4 and 8 apart read the centre cell): the generator stays periodic, but
    what it learned at that size is another function at 4x (reach 3 at l = 16, L = 64: at 256
    the taps 8 apart no longer meet)."""
    inputs, x = label_inputs(tf.keras.Input((None, None, latent_channels), name="latent"), labels)
    x = _conv(x, filters, 3, "stem")
    for i in range(reach):
        x = _reach_block(x, filters, 2 ** (i + 1), f"{REACH}{i}")
    for i in range(UPSAMPLINGS):
        x = _up_block(x, filters, f"up{i}")
    x = tf.keras.layers.ReLU(name="head_relu")(x)
    spins = _conv(x, 1, 3, "head", activation="tanh")
    return tf.keras.Model(inputs, spins, name=name)


def critic(labels=2, filters=64, blocks=2, dropout=0.25, name="rugan_critic"):
    """Spins (batch, L, L, 1) and labels (batch, labels) -> one score each, at any L divisible
    by 2^blocks; `dropout` on the first two blocks (the consistency term's perturbations)."""
    inputs, x = label_inputs(tf.keras.Input((None, None, 1), name="spins"), labels)
    for i in range(blocks):
        x = _down_block(x, filters, f"down{i}", dropout if i < 2 else 0.0)
    x = tf.keras.layers.LeakyReLU(0.2, name="head_act")(x)
    x = tf.keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(1, name="score")(x), name=name)


def regressor(labels=2, filters=16, name="rugan_regressor"):
    """Spins (batch, L, L, 1) -> labels (batch, labels) at any L: two periodic 3x3 ReLU
    convolutions, a global average and a dense layer, which can represent E/N and m exactly
    (s_i s_j = |s_i + s_j| - 1 for +-1 spins). The 2017 GAN's label regression as its own
    network: the critic cannot regress labels it is given as input channels."""
    x = spins = tf.keras.Input((None, None, 1), name="spins")
    x = _conv(x, filters, 3, "conv0", activation="relu")
    x = _conv(x, filters, 3, "conv1", activation="relu")
    x = tf.keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return tf.keras.Model(spins, tf.keras.layers.Dense(labels, name="labels")(x), name=name)


def straight_through_signs(x):
    """The signs of `x` (+-1; what a lattice is made of) in the forward pass, the identity in
    the backward pass (straight-through): a label measured on them trains the network."""
    return x + tf.stop_gradient(tf.where(x >= 0, 1.0, -1.0) - x)


def ising_labels(spins):
    """The exact (E/N, m) of lattices (batch, L, L, 1) under the periodic nearest-neighbour Ising
    Hamiltonian (J = 1), differentiable in the spins: what a RUGAN's label term measures with
    `label_function` instead of a fitted regressor."""
    s = spins[..., 0]
    sites = tf.cast(tf.shape(s)[1] * tf.shape(s)[2], s.dtype)
    return tf.stack([ising.energy_tf(s) / sites, tf.reduce_mean(s, axis=[1, 2])], axis=1)


def sample_batches(generator, labels, latent_shape, seed=0, batch=64, measure=None,
                   corrections=0):
    """Yield the generator's raw output (b, H, W) for successive `batch` rows of `labels`
    (n, k), each row with a latent of `latent_shape` (spatial) drawn from one stream seeded by
    `seed`: the same seed gives the same samples; callers threshold each batch as it comes.
    `corrections` c > 0 with `measure` (raw outputs (b, H, W) -> the labels they have (b, k)):
    each batch is made c more times from the same latents, the labels given to the generator
    moved each time by what the last output missed (given += requested - measured)."""
    labels = np.asarray(labels, np.float32)
    channels = int(generator.inputs[0].shape[-1])
    rng = np.random.default_rng(seed)
    for start in range(0, len(labels), batch):
        part = given = labels[start:start + batch]
        latent = rng.normal(size=(len(part), *latent_shape, channels)).astype(np.float32)
        out = generator([latent, given], training=False).numpy()[..., 0]
        for _ in range(corrections):
            given = (given + part - measure(out)).astype(np.float32)
            out = generator([latent, given], training=False).numpy()[..., 0]
        yield out


def gradient_penalty(score, real, fake, weight):
    """Eq. 7b: mean over samples of (|grad_x score(x)| - 1)^2 at x = w real + (1 - w) fake,
    `weight` (batch,) uniform in [0, 1]; `score(x)` -> (batch, 1). The epsilon inside the square
    root keeps the gradient finite where the critic's slope vanishes."""
    weight = tf.reshape(tf.cast(weight, real.dtype), [-1] + [1] * (len(real.shape) - 1))
    mixed = weight * real + (1 - weight) * fake
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        values = score(mixed)
    grads = tape.gradient(values, mixed)
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=list(range(1, len(real.shape)))) + 1e-12)
    return tf.reduce_mean(tf.square(norm - 1))


class CriticGeneratorPair(tf.keras.Model):
    """A critic (or discriminator) and a generator, each with its own Adam, the optimizer part
    of the `fit.train` protocol for models with their own train step. The critic learns at
    `learning_rate`, the generator at `generator_rate_factor` times that (the 2017 GAN: 5x),
    both through `fit.train`'s schedule (placement scale, decay; the critic's over its
    `critic_steps` updates per step); betas default to the WGAN-GP setting (0, 0.9).
    `_seed(draw)` gives stateless seeds for the random numbers of a step (latents, mixing
    weights), a function of (`seed`, replica, step, draw), so a resumed run repeats itself.
    `average` = mu > 0 keeps an exponential moving average of the generator's weights (Yazici
    et al., ICLR 2019: it damps the step-to-step oscillation of adversarial training), updated
    by a subclass's train step through `_update_average`, debiased as Adam's moments are
    (started from zero, divided by 1 - mu^steps), stored with the model's weights (checkpoints,
    model selection); `averaged()` puts it in the generator for a while."""

    critic_steps = 1  # critic updates per training step (RUGAN: several)

    def __init__(self, learning_rate=1e-4, generator_rate_factor=1.0, betas=(0.0, 0.9), seed=0,
                 average=0.0, **kwargs):
        super().__init__(**kwargs)
        self.base_rate = float(learning_rate)
        self.generator_rate_factor = float(generator_rate_factor)
        self.betas, self.seed = tuple(float(b) for b in betas), int(seed)
        if not 0 <= average < 1:
            raise ValueError(f"the generator's weight average needs 0 <= mu < 1; got {average}")
        self.average = float(average)

    def _track_average(self):
        """The average's variables (zeros, one per generator weight), once the generator exists;
        each replica writes the same value (the generator is mirrored), the first one's is kept."""
        self.averages = [self.add_weight(
            name=f"average_{i}", shape=w.shape, initializer="zeros", trainable=False,
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
            for i, w in enumerate(self.generator.trainable_weights)] if self.average else []

    def _update_average(self):
        for average, weight in zip(self.averages, self.generator.trainable_weights):
            average.assign(self.average * average + (1 - self.average) * weight)

    @contextlib.contextmanager
    def averaged(self):
        """Within: the generator holds its weights' (debiased) moving average, if one is kept and
        it has trained; after: its own weights again."""
        steps = int(self.generator_optimizer.iterations.numpy()) if self.averages else 0
        if not steps:
            yield self.generator
            return
        weights = self.generator.trainable_weights
        kept = [w.numpy() for w in weights]
        for average, weight in zip(self.averages, weights):
            weight.assign(average / (1 - self.average ** steps))
        try:
            yield self.generator
        finally:
            for value, weight in zip(kept, weights):
                weight.assign(value)

    def make_optimizers(self, config, schedule):
        adam = lambda r, k=1: tf.keras.optimizers.Adam(  # noqa: E731
            schedule(r, k), beta_1=self.betas[0], beta_2=self.betas[1])
        return {"critic_optimizer": adam(self.base_rate, self.critic_steps),
                "generator_optimizer": adam(self.base_rate * self.generator_rate_factor)}

    def compile(self, critic_optimizer, generator_optimizer):
        super().compile(optimizer=generator_optimizer)
        self.critic_optimizer, self.generator_optimizer = critic_optimizer, generator_optimizer

    def _seed(self, draw):
        """A stateless seed for draw `draw` of this step, this replica and this rank."""
        context = tf.distribute.get_replica_context()
        replica = context.replica_id_in_sync_group if context else 0
        step = tf.cast(self.generator_optimizer.iterations, tf.int64)
        return tf.stack([tf.constant(self.seed, tf.int64) * 1000003 + tf.cast(replica, tf.int64),
                         step * 64 + draw])


class RUGAN(CriticGeneratorPair):
    """Conditional WGAN-GP with the consistency term: `generator(latent, labels)` and
    `critic(spins, labels)`. Real batches are (spins (b, L, L, 1) in +-1, labels (b, k)); each
    step makes `critic_steps` critic updates on that batch with fresh latents, then one
    generator update. Loss (thesis Eq. 7): C(fake) - C(real) + lambda1 GP + lambda2 |C(real +
    delta1) - C(real + delta2)| with delta from the critic's dropout.
    With a `regressor_net` (not in the thesis; AC-GAN's auxiliary regression, the 2017 GAN's
    label head) the critic's optimizer also fits it to the labels of real lattices, and the
    generator's loss adds `label_weight` times its mean absolute label error on the signs of
    the generated lattice (straight-through gradients): an explicit conditioning signal, which
    the Wasserstein distance in pixel space barely gives (a lattice off by a few bonds is
    close to one on the label). With a `label_function` instead (e.g. `ising_labels`, the
    exact labels of the model the data come from) the same term measures the generated lattice
    exactly and nothing is fitted. `average` (keyword): the generator's weight average
    (`CriticGeneratorPair`); 0: none, the thesis."""

    def __init__(self, generator_net, critic_net, critic_steps=10, gp_weight=10.0,
                 consistency_weight=2.0, learning_rate=1e-4, seed=0, regressor_net=None,
                 label_weight=0.0, upscale=2 ** UPSAMPLINGS, label_function=None, **kwargs):
        super().__init__(learning_rate, seed=seed, **kwargs)
        if regressor_net is not None and label_function is not None:
            raise ValueError("give a RUGAN a label regressor or a label function, not both")
        self.generator, self.critic = generator_net, critic_net
        self.upscale = int(upscale)  # lattice side / latent side
        self.regressor, self.label_weight = regressor_net, float(label_weight)
        self.label_function = label_function
        self.critic_steps, self.gp_weight = int(critic_steps), float(gp_weight)
        self.consistency_weight = float(consistency_weight)
        self.latent_channels = int(generator_net.inputs[0].shape[-1])
        self._track_average()

    def call(self, inputs):
        return self.generator(inputs)

    def _fake(self, labels, shape, draw):
        batch = tf.shape(labels)[0]
        latent = tf.random.stateless_normal(
            [batch, shape[0] // self.upscale, shape[1] // self.upscale, self.latent_channels],
            self._seed(draw))
        return self.generator([latent, labels], training=True)

    def train_step(self, data):
        real, labels = data
        real = tf.cast(real, self.compute_dtype)
        shape = [real.shape[k] or tf.shape(real)[k] for k in (1, 2)]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for k in range(self.critic_steps):
            weight = tf.random.stateless_uniform([tf.shape(real)[0]], self._seed(32 + k))
            fake = self._fake(labels, shape, k)
            with tf.GradientTape() as tape:
                real_score = self.critic([real, labels], training=True)
                again = self.critic([real, labels], training=True)  # other dropout masks
                fake_score = self.critic([fake, labels], training=True)
                wasserstein = tf.reduce_mean(real_score) - tf.reduce_mean(fake_score)
                penalty = gradient_penalty(lambda x: self.critic([x, labels], training=True),
                                           real, fake, weight)
                consistency = tf.reduce_mean(tf.abs(real_score - again))
                loss = (-wasserstein + self.gp_weight * penalty
                        + self.consistency_weight * consistency)
                variables = self.critic.trainable_variables
                if self.regressor is not None:
                    fit = tf.reduce_mean(tf.square(self.regressor(real, training=True) - labels))
                    loss, variables = loss + fit, variables + self.regressor.trainable_variables
                scaled = loss / replicas
            self.critic_optimizer.minimize(scaled, variables, tape=tape)
        with tf.GradientTape() as tape:
            fake = self._fake(labels, shape, self.critic_steps)
            generator_loss = -tf.reduce_mean(self.critic([fake, labels], training=True))
            metrics = {"label_fit": fit} if self.regressor is not None else {}
            if self.regressor is not None or self.label_function is not None:
                hard = straight_through_signs(fake)
                measured = (self.label_function(hard) if self.label_function is not None
                            else self.regressor(hard, training=False))
                miss = tf.reduce_mean(tf.abs(measured - labels))
                generator_loss += self.label_weight * miss
                metrics["label_miss"] = miss
            scaled = generator_loss / replicas
        self.generator_optimizer.minimize(scaled, self.generator.trainable_variables, tape=tape)
        self._update_average()
        return {"wasserstein": wasserstein, "gradient_penalty": penalty,
                "consistency": consistency, "critic_loss": loss, "generator_loss": generator_loss,
                **metrics}
