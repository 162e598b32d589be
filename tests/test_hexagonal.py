"""Hexagonal convolution: against a direct sum over each site's hexagonal neighbours found from
the sites' positions on the torus (across the periodic boundary too), equivariance under
lattice translations, the kernel's site count, serialization and refusals. The sheet RUGAN:
the mask always holds, 4x the area from the same weights, equivariance, one WGAN-GP step."""

import os

import numpy as np
import tensorflow as tf

from tfphys.errors import InputError
from tfphys.models import gan, hexagonal
from tfphys.physics.atoms import zigzag
from tfphys.training import export


def direct(x, kernel, bias, radius):
    """The convolution by geometry: site (r, c) at (c sqrt(3) / 2, r + (c odd) / 2) in units of
    the pixel spacing; each minimum-image displacement within `radius` hexagonal steps picks
    the weight of its axial offset (dq, dr) = (dx / (sqrt(3) / 2), dy - dq / 2)."""
    _, height, width, _ = x.shape
    rows, cols = np.mgrid[:height, :width]
    xy = np.stack([cols * np.sqrt(3) / 2, rows + (cols % 2) / 2], -1).reshape(-1, 2)
    box = np.array([width * np.sqrt(3) / 2, height])
    index = {o: k for k, o in enumerate(hexagonal.offsets(radius))}
    flat = x.reshape(len(x), -1, x.shape[-1])
    out = np.zeros((len(x), height * width, kernel.shape[-1]))
    for i, centre in enumerate(xy):
        d = xy - centre
        d -= np.round(d / box) * box
        dq = np.round(d[:, 0] / (np.sqrt(3) / 2)).astype(int)
        dr = np.round(d[:, 1] - dq / 2).astype(int)
        for j in np.flatnonzero(np.maximum(np.maximum(abs(dq), abs(dr)), abs(dq + dr)) <= radius):
            out[:, i] += flat[:, j] @ kernel[index[(dq[j], dr[j])]]
    return (out + bias).reshape(len(x), height, width, -1)


class HexConv2DTest(tf.test.TestCase):
    def test_equals_a_direct_sum_over_hexagonal_neighbours_on_the_torus(self):
        rng = np.random.default_rng(0)
        for radius, (height, width) in ((1, (5, 6)), (2, (7, 8)), (1, (3, 4))):
            x = rng.normal(size=(2, height, width, 3)).astype(np.float32)
            layer = hexagonal.HexConv2D(4, radius)
            layer.build(x.shape)
            layer.bias.assign(rng.normal(size=4))
            out = layer(x).numpy()
            self.assertEqual(len(hexagonal.offsets(radius)), 1 + 3 * radius * (radius + 1))
            self.assertAllClose(out, direct(x, layer.kernel.numpy(), layer.bias.numpy(), radius),
                                atol=1e-5)

    def test_lattice_translations_commute_with_the_convolution(self):
        x = np.random.default_rng(1).normal(size=(1, 9, 10, 2)).astype(np.float32)
        layer = hexagonal.HexConv2D(3, 2)
        for rows, cols in ((1, 0), (0, 2), (4, 6), (-2, -4)):  # even column shifts keep parity
            moved = layer(np.roll(x, (rows, cols), axis=(1, 2))).numpy()
            self.assertAllClose(moved, np.roll(layer(x).numpy(), (rows, cols), axis=(1, 2)),
                                atol=1e-5)

    def test_exports_and_reloads_safely_at_any_size(self):
        inputs = tf.keras.Input((None, None, 1))
        model = tf.keras.Model(inputs, hexagonal.HexConv2D(2, 1, activation="tanh")(inputs))
        x = np.random.default_rng(2).normal(size=(1, 6, 8, 1)).astype(np.float32)
        reloaded = export.load(export.export(model, os.path.join(self.get_temp_dir(), "hex")))
        self.assertAllClose(reloaded(x), model(x), atol=1e-6)
        self.assertEqual(reloaded(np.zeros((1, 12, 16, 1), np.float32)).shape, (1, 12, 16, 2))

    def test_refuses_odd_widths_and_a_zero_radius(self):
        with self.assertRaisesRegex(InputError, "needs an even width"):
            hexagonal.HexConv2D(2)(np.zeros((1, 6, 5, 1), np.float32))
        with self.assertRaisesRegex(InputError, "radius >= 1"):
            hexagonal.HexConv2D(2, 0)


class SheetRuganTest(tf.test.TestCase):
    def test_generator_respects_the_mask_upscales_and_is_equivariant(self):
        tf.keras.utils.set_random_seed(0)
        g = hexagonal.generator(noise_channels=5, labels=1, filters=8)
        rng = np.random.default_rng(0)
        label = np.array([[0.3]], np.float32)
        for shape in ((24, 28), (48, 56), (6, 4)):
            out = g([rng.normal(size=(1, *shape, 5)).astype(np.float32), label]).numpy()[0, ..., 0]
            self.assertEqual(out.shape, shape)
            self.assertTrue(np.all(out[zigzag.mask(*shape)] == -1))
            self.assertTrue(np.all(np.abs(out) <= 1))
        z = rng.normal(size=(1, 12, 10, 5)).astype(np.float32)
        for shift in ((3, 0), (0, 2), (6, 4)):  # lattice translations that keep the mask
            moved = g([np.roll(z, shift, axis=(1, 2)), label]).numpy()
            self.assertAllClose(moved, np.roll(g([z, label]).numpy(), shift, axis=(1, 2)),
                                atol=1e-5)
        path = export.export(g, os.path.join(self.get_temp_dir(), "sheet_generator"))
        self.assertAllClose(export.load(path)([z, label]), g([z, label]), atol=1e-5)

    def test_trains_as_a_rugan_with_a_lattice_sized_latent(self):
        tf.keras.utils.set_random_seed(1)
        model = gan.RUGAN(hexagonal.generator(3, 1, 4), hexagonal.critic(1, 4), critic_steps=2,
                          learning_rate=1e-3, upscale=1)
        model.compile(*model.make_optimizers(None, lambda rate, updates=1: rate).values())
        rng = np.random.default_rng(1)
        real = np.where(zigzag.mask(6, 4) | (rng.random((5, 6, 4)) < 0.2), -1.0, 1.0)
        data = tf.data.Dataset.from_tensor_slices(
            (real[..., None].astype(np.float32), rng.normal(size=(5, 1)).astype(np.float32)))
        before = [w.numpy() for w in model.generator.trainable_weights]
        history = model.fit(data.batch(2), epochs=1, verbose=0).history  # batches 2, 2, 1
        self.assertTrue(all(np.isfinite(v[-1]) for v in history.values()))
        after = model.generator.trainable_weights
        self.assertTrue(any(np.abs(a.numpy() - b).max() > 0 for a, b in zip(after, before)))

    def test_label_regressor_is_translation_invariant_and_intensive(self):
        tf.keras.utils.set_random_seed(2)
        r = hexagonal.regressor(1, 4)
        rng = np.random.default_rng(2)
        sheet = np.where(zigzag.mask(6, 4) | (rng.random((6, 4)) < 0.3), -1.0, 1.0)
        x = sheet[None, ..., None].astype(np.float32)
        for shift in ((3, 0), (0, 2)):  # lattice translations: the same sheet, the same label
            self.assertAllClose(r(np.roll(x, shift, axis=(1, 2))), r(x), atol=1e-6)
        self.assertAllClose(r(np.tile(x, (1, 2, 2, 1))), r(x), atol=1e-6)  # per site: intensive
