"""The 2017 GAN for Ising phase space (thesis, "Phase space sampling and operator confidence
with generative adversarial networks"): an unconditional generator and a discriminator that
also regresses the labels (E/N, m) of real configurations, so that after training its
real/fake output is a confidence in its own label prediction (an anomaly detector).

Generator: noise 2 x 2 x 128 ~ N(0, 0.7) -> 7 transposed convolutions, all tanh, dropout
(keep 0.7) after all but the last two -> L x L. The transposed convolutions wrap around the
torus (`PeriodicConv2DTranspose`; the thesis's zero-padded ones cut the bonds across the
lattice's edges). Discriminator: 9 ReLU convolutions (periodic
padding; two of them stride 2) and two dense layers with dropout (keep 0.7) between them;
output 1 + N: a real/fake logit and N label predictions. Loss (Eqs. 1-4): the generator
minimises -log D(G(z)); the discriminator beta * L_GAN + gamma * L_LABEL, where L_LABEL is the
alpha-weighted squared error of the labels on real examples and gamma drops from 0.5 to 0.02
after `switch_step` steps. Dropout masks and noise are stateless functions of seeds and
checkpointed counters (`CountedDropout`, `CriticGeneratorPair._seed`), so resume is exact.
"""

import tensorflow as tf

from tfphys.models.gan import (CountedDropout, CriticGeneratorPair, _conv, ising_labels,
                               straight_through_signs)
from tfphys.models.padding import PeriodicConv2DTranspose
from tfphys.physics.spins import ising

NOISE_SHAPE = (2, 2, 128)
NOISE_STDDEV = 0.7
KEEP = 0.7


def generator(L=8, filters=64, name="gan_generator"):
    """Noise (batch, 2, 2, 128) -> spins (batch, L, L, 1) in (-1, 1); L = 2 * 2^k (8: k = 2)."""
    doublings = (L // 2).bit_length() - 1
    if not 1 <= doublings <= 4 or 2 * 2 ** doublings != L:
        raise ValueError(f"the 2017 generator makes L = 4, 8, 16 or 32 lattices; got {L}")
    # 7 transposed convolutions: layers 1..doublings double the lattice, the others keep it
    plan = [(4, 2) if 1 <= i <= doublings else (3, 1) for i in range(7)]
    width = [4 * filters, 2 * filters, 2 * filters, filters, filters, filters // 2, 1]
    x = noise = tf.keras.Input(NOISE_SHAPE, name="noise")
    for i, ((kernel, stride), channels) in enumerate(zip(plan, width)):
        x = PeriodicConv2DTranspose(channels, kernel, stride, activation="tanh",
                                    name=f"deconv{i}")(x)
        if i < len(plan) - 2:
            x = CountedDropout(1 - KEEP, seed=100 + i, name=f"dropout{i}")(x)
    return tf.keras.Model(noise, x, name=name)


def discriminator(L=8, labels=2, filters=32, name="gan_discriminator"):
    """Spins (batch, L, L, 1) -> (batch, 1 + labels): a real/fake logit, then the labels."""
    x = spins = tf.keras.Input((L, L, 1), name="spins")
    for i in range(9):
        x = _conv(x, filters * 2 ** (i // 3), 3, f"conv{i}", activation="relu",
                  stride=2 if i in (2, 5) else 1)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = tf.keras.layers.Dense(8 * filters, activation="relu", name="dense0")(x)
    x = CountedDropout(1 - KEEP, seed=200, name="dense_dropout")(x)
    return tf.keras.Model(spins, tf.keras.layers.Dense(1 + labels, name="out")(x), name=name)


def flip_averaged(discriminator, spins, parity=(1.0, 1.0, -1.0)):
    """The discriminator's outputs (n, 1 + N) at `spins` (n, L, L, 1) averaged with those at
    -spins, each output with its `parity` under the spin flip (the real/fake logit and E/N even,
    m odd): zero-field Ising data have this symmetry exactly, the network only approximately."""
    spins = tf.convert_to_tensor(spins, tf.float32)
    parity = tf.constant(parity, tf.float32)
    up = discriminator(spins, training=False)
    return 0.5 * (up + parity * discriminator(-spins, training=False))


def sorted_matching(made, seen, alpha):
    """Sum over labels j of alpha_j W2^2 between the empirical distributions of column j of
    `made` and `seen` (equal batch sizes): both sorted, i-th against i-th."""
    gap = tf.sort(made, axis=0) - tf.sort(seen, axis=0)
    return tf.reduce_sum(alpha * tf.reduce_mean(tf.square(gap), 0))


class LabelGAN(CriticGeneratorPair):
    """The 2017 GAN's train step. Batches are (spins (b, L, L, 1) in +-1, labels (b, N)); each
    step updates the discriminator on b real and b generated configurations, then the
    generator on b fresh ones. `alpha` weights the labels' squared errors (Eq. 3); gamma is
    `gamma` until the discriminator has made `switch_step` updates, `late_gamma` after.
    `feature_matching` > 0 adds to the generator's loss the squared 2-Wasserstein distance
    between the labels the discriminator predicts for its batch and for the real batch, label
    by label and alpha-weighted: both batches sorted, i-th against i-th (feature matching,
    Salimans et al. 2016, which the thesis cites against mode collapse, taken from the first
    moments to the whole 1-D distribution: a collapsed batch's top half is pulled toward the
    missing mode); 0 is the thesis's loss.
    `exact_matching` > 0 adds the same sorted matching between the exact Ising (E/N, m) of the
    generated lattices' signs (`gan.ising_labels`, straight-through gradients) and the real
    labels: the generator is told its energies exactly, not through the discriminator's guess.
    That alone blinds the discriminator outside the training energies (it never sees a fake
    there). `outliers` = p > 0 restores its sight (outlier exposure, Hendrycks et al., ICLR
    2019): each step it is also shown the real batch moved by up to a fraction p of its spins
    (`corrupted`: random flips, or flips that lower or raise the energy), labelled fake, so its
    confidence falls as a lattice moves away from the training distribution, above or below it,
    whatever the generator does. 0 / 0: the thesis. `average` (keyword): the generator's
    weight average (`CriticGeneratorPair`); 0: none, the thesis."""

    def __init__(self, generator_net, discriminator_net, alpha=(0.25, 1.0), beta=0.5, gamma=0.5,
                 late_gamma=0.02, switch_step=0, learning_rate=2e-5, generator_rate_factor=5.0,
                 beta_1=0.9, feature_matching=0.0, exact_matching=0.0, outliers=0.0, seed=0,
                 **kwargs):
        super().__init__(learning_rate, generator_rate_factor, betas=(beta_1, 0.999), seed=seed,
                         **kwargs)
        self.generator, self.discriminator = generator_net, discriminator_net
        self._track_average()
        self.alpha = tf.constant(alpha, tf.float32)
        self.beta, self.gamma, self.late_gamma = float(beta), float(gamma), float(late_gamma)
        self.switch_step, self.feature_matching = int(switch_step), float(feature_matching)
        self.exact_matching, self.outliers = float(exact_matching), float(outliers)
        self.bce = tf.keras.losses.BinaryCrossentropy(from_logits=True,
                                                      reduction=tf.keras.losses.Reduction.NONE)

    def call(self, noise):
        return self.generator(noise)

    def noise(self, batch, draw):
        return NOISE_STDDEV * tf.random.stateless_normal([batch, *NOISE_SHAPE], self._seed(draw))

    def corrupted(self, real):
        """`real` (b, L, L, 1) with a fraction U(0, `outliers`) of each lattice's sites picked;
        a third of the lattices each get the picked spins flipped (toward E = 0), flipped where
        that lowers the energy (toward the ground state) or where it raises it (toward the top
        of the spectrum): fakes on both sides of any training energy range."""
        share = self.outliers * tf.random.stateless_uniform([tf.shape(real)[0], 1, 1, 1],
                                                            self._seed(2), dtype=real.dtype)
        pick = tf.random.stateless_uniform(tf.shape(real), self._seed(3), dtype=real.dtype) < share
        kind = tf.random.stateless_uniform([tf.shape(real)[0], 1, 1, 1], self._seed(4), maxval=3,
                                           dtype=tf.int32)
        delta = ising.flip_delta_tf(real[..., 0])[..., None]
        flip = pick & ((kind == 0) | ((kind == 1) & (delta < 0)) | ((kind == 2) & (delta > 0)))
        return tf.where(flip, -real, real)

    def confidence(self, spins, symmetric=True):
        """(labels (n, N), confidence (n,) in (0, 1)) the discriminator gives configurations;
        `symmetric`: averaged over the spin flip (`flip_averaged`)."""
        out = (flip_averaged(self.discriminator, spins) if symmetric
               else self.discriminator(spins, training=False))
        return out[:, 1:], tf.sigmoid(out[:, 0])

    def train_step(self, data):
        real, labels = data
        real = tf.cast(real, self.compute_dtype)
        batch = tf.shape(real)[0]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        gamma = tf.where(self.critic_optimizer.iterations < self.switch_step, self.gamma,
                         self.late_gamma)
        fake = self.generator(self.noise(batch, 0), training=True)
        with tf.GradientTape() as tape:
            real_out = self.discriminator(real, training=True)
            fake_out = self.discriminator(fake, training=True)
            gan_loss = tf.reduce_mean(self.bce(tf.ones([batch, 1]), real_out[:, :1])
                                      + self.bce(tf.zeros([batch, 1]), fake_out[:, :1]))
            if self.outliers:
                moved = self.discriminator(self.corrupted(real), training=True)
                gan_loss += tf.reduce_mean(self.bce(tf.zeros([batch, 1]), moved[:, :1]))
            label_loss = tf.reduce_mean(tf.reduce_sum(
                self.alpha * tf.square(real_out[:, 1:] - tf.cast(labels, real_out.dtype)), axis=1))
            loss = self.beta * gan_loss + gamma * label_loss
            scaled = loss / replicas
        self.critic_optimizer.minimize(scaled, self.discriminator.trainable_variables, tape=tape)
        with tf.GradientTape() as tape:
            made = self.generator(self.noise(batch, 1), training=True)
            fooled = self.discriminator(made, training=True)
            generator_loss = tf.reduce_mean(self.bce(tf.ones([batch, 1]), fooled[:, :1]))
            if self.feature_matching:
                generator_loss += self.feature_matching * sorted_matching(
                    fooled[:, 1:], tf.stop_gradient(real_out[:, 1:]), self.alpha)
            if self.exact_matching:
                generator_loss += self.exact_matching * sorted_matching(
                    ising_labels(straight_through_signs(made)), tf.cast(labels, made.dtype),
                    self.alpha)
            scaled = generator_loss / replicas
        self.generator_optimizer.minimize(scaled, self.generator.trainable_variables, tape=tape)
        self._update_average()
        return {"discriminator_loss": loss, "gan_loss": gan_loss, "label_loss": label_loss,
                "generator_loss": generator_loss, "real_confidence": tf.reduce_mean(
                    tf.sigmoid(real_out[:, 0]))}
