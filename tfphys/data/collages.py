"""MNIST counting collages (Mills & Tamblyn, "Weakly-supervised multi-class object localization
using only object counts as labels", Table 1): N_i ~ U{0..L_max} digits of each class i drawn
from one split of a digit pool and composited at random positions on an empty 256 x 256 image
by element-wise sum; without occlusion no two digits' bounding boxes touch, with occlusion
they may and pixels are clipped at 255, and `_vs` scales every digit (bicubic) before placing.

Digits are split once, by a SHA3 hash of their pixels (10 %, the paper's 480 of 4,800 per
numeral), so no digit is in both a training and a test collage. Every collage carries its
counts and the classes and centres of its digits (for the localization score).
"""

import dataclasses

import numpy as np
from PIL import Image

from tfphys import checks
from tfphys.data import split
from tfphys.errors import InputError

SIZE = 256
DIGIT_TEST_FRACTION = 0.1
SCALES = (0.5, 1.5)  # `_vs` scale factors (the paper names no range)
WARP_DEGREES, WARP_SCALES, WARP_SHEAR = 10.0, (0.9, 1.1), 0.2  # `warp`: not in the paper
ATTEMPTS = 200  # random positions tried per digit before the layout is redrawn
REDRAWS = 100  # layouts redrawn in a row before an image is called too small for L_max


@dataclasses.dataclass(frozen=True)
class CollageSet:
    name: str
    classes: tuple  # the numerals counted, in label order
    l_max: int
    occlusion: bool = False
    scaling: bool = False


DATASETS = {s.name: s for s in (
    CollageSet("mnist1", (5,), 25), CollageSet("mnist2", (4, 8), 12),
    CollageSet("mnist10", tuple(range(10)), 6),
    CollageSet("mnist2_occ", (4, 8), 15, occlusion=True),
    CollageSet("mnist2_occ_vs", (4, 8), 15, occlusion=True, scaling=True))}


def dataset(name):
    if name not in DATASETS:
        raise InputError(f"unknown collage dataset {name!r}; choose from {', '.join(DATASETS)}")
    return DATASETS[name]


def shape(size):
    """(height, width) of `size`: a side, a (height, width) pair or a "WIDTHxHEIGHT" string as
    image sizes are written ("1920x1080", "128"); every side at least 32."""
    if isinstance(size, str):
        try:
            sides = [int(side) for side in size.lower().split("x")]
        except ValueError:
            sides = []
        if len(sides) not in (1, 2):
            raise InputError(f"size {size!r} is not SIDE or WIDTHxHEIGHT (e.g. 256 or 1920x1080)")
        size = sides * 2 if len(sides) == 1 else sides[::-1]
    height, width = (size, size) if np.ndim(size) == 0 else size
    return checks.integer("height", height, low=32), checks.integer("width", width, low=32)


def at_size(spec, size, l_max=None):
    """`spec` on images of `size` (see `shape`) with L_max scaled by the area (at least 1), so
    the digit density matches the paper's 256 x 256 collages: smaller training images for the
    size-agnostic EDNN, larger ones (1024 x 1024, 1920 x 1080) for counting at scale; or with
    `l_max` in its place (denser images than the paper's, to train on crowding)."""
    height, width = shape(size)
    if l_max is not None:
        return dataclasses.replace(spec, l_max=checks.integer("l_max", l_max, low=1))
    return dataclasses.replace(spec, l_max=max(1, round(spec.l_max * height * width / SIZE ** 2)))


def pools(images, labels, classes):
    """{"train": [digits of class 0, ...], "test": [...]}: each class's digits split by the
    SHA3 hash of their pixels."""
    test = split.is_test(images, DIGIT_TEST_FRACTION)
    made = {part: [images[(labels == c) & (test == (part == "test"))] for c in classes]
            for part in ("train", "test")}
    for part, digits in made.items():
        for c, group in zip(classes, digits):
            if not len(group):
                raise InputError(f"no {part} digits of class {c} in the digit pool")
    return made


def tight(digit):
    """`digit` cropped to its ink (its non-zero pixels)."""
    rows, cols = np.nonzero(digit)
    return digit[rows.min():rows.max() + 1, cols.min():cols.max() + 1] if len(rows) else digit


def _scaled(digit, rng):
    side = max(4, int(round(28 * rng.uniform(*SCALES))))
    return np.asarray(Image.fromarray(digit).resize((side, side), Image.BICUBIC))


def _warped(digit, rng):
    """`digit` under a random affine map about its centre: a rotation up to WARP_DEGREES, a
    scale in WARP_SCALES and a shear up to WARP_SHEAR (bilinear, on a canvas large enough to
    keep every stroke): new handwriting from the same training digits."""
    angle = np.deg2rad(rng.uniform(-WARP_DEGREES, WARP_DEGREES))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shear = np.array([[1.0, rng.uniform(-WARP_SHEAR, WARP_SHEAR)], [0.0, 1.0]])
    inverse = np.linalg.inv(rng.uniform(*WARP_SCALES) * rotation @ shear)
    side = int(np.ceil(1.5 * max(digit.shape)))
    # PIL maps each output pixel (x, y) to the input pixel inverse @ (x, y) + offset
    offset = np.array(digit.shape[::-1]) / 2 - inverse @ np.array([side / 2, side / 2])
    image = Image.fromarray(digit).transform(
        (side, side), Image.AFFINE, (*inverse[0], offset[0], *inverse[1], offset[1]),
        Image.BILINEAR)
    return np.asarray(image)


def collage(rng, digits, spec, size=SIZE, warp=False):
    """(image (height, width) uint8 of `size` (see `shape`), counts (classes,) int, objects
    [(class, row, col)] centres) from `digits` (one class's digit array per class), or None
    when a layout without overlap was not found (the caller draws again); `warp`: every digit
    `_warped` first (an augmentation of training collages)."""
    height, width = shape(size)
    counts = rng.integers(0, spec.l_max + 1, len(spec.classes))
    order = rng.permutation(np.repeat(np.arange(len(spec.classes)), counts))
    canvas = np.zeros((height, width), np.int32)
    taken = np.zeros((height, width), bool)
    objects = []
    for c in order:
        digit = digits[c][rng.integers(len(digits[c]))]
        digit = _warped(digit, rng) if warp else digit
        digit = tight(_scaled(digit, rng) if spec.scaling else digit)
        h, w = digit.shape
        for _ in range(ATTEMPTS):
            r, q = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
            if spec.occlusion or not taken[max(r - 1, 0):r + h + 1, max(q - 1, 0):q + w + 1].any():
                break
        else:
            return None
        canvas[r:r + h, q:q + w] += digit
        taken[r:r + h, q:q + w] = True
        objects.append((int(c), r + h / 2, q + w / 2))
    return np.clip(canvas, 0, 255).astype(np.uint8), counts, objects


def assemble(spec, count, seed, test_fraction, shape, draw):
    """{"image" (count, *shape) uint8, "counts" (count, classes) float32, "test" bool,
    "objects" (count, l_max * classes, 3) float32 (class, row, col; class -1 pads)}: each
    image is a test image with probability `test_fraction`; `draw(rng, test)` makes one
    (image, counts, objects) or None to be drawn again."""
    checks.integer("count", count, low=1)
    rng = np.random.default_rng(seed)
    capacity = spec.l_max * len(spec.classes)
    out = {"image": np.empty((count, *shape), np.uint8),
           "counts": np.empty((count, len(spec.classes)), np.float32),
           "test": rng.random(count) < test_fraction,
           "objects": np.full((count, capacity, 3), -1, np.float32)}
    for k in range(count):
        for _ in range(REDRAWS):
            made = draw(rng, out["test"][k])
            if made is not None:
                break
        else:
            raise InputError(f"no layout of up to {spec.l_max} objects per class found in "
                             f"{REDRAWS} draws on {shape[1]}x{shape[0]} images: too many for "
                             f"the size; lower L_max (--l_max) or enlarge the images (--size)")
        out["image"][k], out["counts"][k], objects = made
        if objects:
            out["objects"][k, :len(objects)] = objects
    return out


def examples(spec, count, seed, pool, test_fraction=0.125, size=SIZE, warp=False):
    """`assemble`d collages of `size` (see `shape`), each drawn from its split's digits;
    `warp`: the training collages' digits `_warped` (test collages never are)."""
    return assemble(spec, count, seed, test_fraction, shape(size), lambda rng, test: collage(
        rng, pool["test" if test else "train"], spec, size, warp and not test))
