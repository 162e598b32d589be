"""Procedural RGB counting scenes, a stand-in for the counting paper's Blender renders (RD-1:
0-5 rubber ducks; RD-2: 0-5 ducks and 0-5 balls), which cannot be made here: Blender is not
available. What the paper's sets test is kept: five background scenes (water, grass, sand,
mountains, bathroom tiles) with random colours and texture, two object shapes (a duck: body,
head, beak, drawn at a random angle; a ball), random scale, colour and shading (matte:
Lambertian; shiny: plus a specular highlight), 256 x 256 x 3, and partial but never full
occlusion: objects are painted in turn and a placement is redrawn when it would leave an
earlier object less than half visible. It is not 3D rendering: no perspective, no shadows,
no reflections.
"""

import dataclasses

import numpy as np

from tfphys.data import collages
from tfphys.errors import InputError

SIZE = 256
SCENES = ("water", "grass", "sand", "mountains", "tiles")
VISIBLE = 0.5  # least visible share of every object
ATTEMPTS = 100
RADIUS = (12, 28)  # least and largest object radius in pixels


@dataclasses.dataclass(frozen=True)
class SceneSet:
    name: str
    classes: tuple  # "duck", "ball"
    l_max: int = 5
    occlusion: bool = True


DATASETS = {s.name: s for s in (SceneSet("rd1", ("duck",)), SceneSet("rd2", ("duck", "ball")))}


def _noise(rng, size, scale):
    """Smooth random texture in [0, 1]: bilinear upsampling of a coarse random grid."""
    coarse = rng.random((size // scale + 2, size // scale + 2))
    t = np.arange(size) / scale
    i, f = t.astype(int), (t % 1)[:, None]
    rows = coarse[i] * (1 - f) + coarse[i + 1] * f
    return rows[:, i] * (1 - f.T) + rows[:, i + 1] * f.T


def background(rng, scene, size=SIZE):
    """(size, size, 3) float in [0, 1] of one of SCENES."""
    y, x = np.mgrid[0:size, 0:size] / size
    jitter = rng.uniform(-0.08, 0.08, 3)
    if scene == "water":
        ripples = 0.05 * np.sin(40 * y + 6 * _noise(rng, size, 32))
        image = np.stack([0.1 + 0.1 * y, 0.35 + 0.2 * y, 0.6 + 0.2 * y], -1) + ripples[..., None]
    elif scene == "grass":
        image = np.array([0.2, 0.5, 0.15]) * (0.7 + 0.6 * _noise(rng, size, 8))[..., None]
    elif scene == "sand":
        image = np.array([0.85, 0.75, 0.55]) * (0.85 + 0.3 * _noise(rng, size, 4))[..., None]
    elif scene == "mountains":
        ridge = 0.35 + 0.25 * _noise(rng, size, 64)[0]
        sky = np.stack([0.5 + 0.3 * y, 0.7 + 0.2 * y, 0.95 + 0 * y], -1)
        rock = np.array([0.4, 0.38, 0.35]) * (0.8 + 0.4 * _noise(rng, size, 16))[..., None]
        image = np.where((y > ridge[None, :])[..., None], rock, sky)
    else:  # bathroom tiles
        tile = int(rng.integers(24, 48))
        grout = ((np.arange(size)[:, None] % tile < 2) | (np.arange(size)[None] % tile < 2))
        image = np.where(grout[..., None], 0.6, np.array([0.85, 0.9, 0.92]))
    return np.clip(image + jitter, 0, 1)


def _ellipse(y, x, cy, cx, ry, rx, angle):
    c, s = np.cos(angle), np.sin(angle)
    u, v = (x - cx) * c + (y - cy) * s, -(x - cx) * s + (y - cy) * c
    return (u / rx) ** 2 + (v / ry) ** 2


def _shape(rng, kind, radius, size):
    """(mask (size, size) bool, normal-z (size, size) for shading, centre) of one object of
    `kind` centred at a random position."""
    cy, cx = rng.uniform(radius, size - radius, 2)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    if kind == "ball":
        r2 = _ellipse(y, x, cy, cx, radius, radius, 0.0)
        return r2 <= 1, np.sqrt(np.clip(1 - r2, 0, 1)), (cy, cx)
    angle = rng.uniform(0, 2 * np.pi)
    c, s = np.cos(angle), np.sin(angle)
    body = _ellipse(y, x, cy, cx, 0.55 * radius, radius, angle)
    hy, hx = cy + 0.7 * radius * s - 0.45 * radius * c, cx + 0.7 * radius * c + 0.45 * radius * s
    head = _ellipse(y, x, hy, hx, 0.38 * radius, 0.38 * radius, 0.0)
    by, bx = hy + 0.45 * radius * s, hx + 0.45 * radius * c
    beak = _ellipse(y, x, by, bx, 0.1 * radius, 0.22 * radius, angle)
    mask = (body <= 1) | (head <= 1) | (beak <= 1)
    depth = np.sqrt(np.clip(1 - np.minimum(body, head), 0, 1))
    return mask, depth, (cy, cx)


def _paint(rng, image, owner, areas, kind, size):
    """Paint one object over `image` unless an earlier object (full pixel counts `areas`)
    would keep less than VISIBLE of itself in sight; returns its centre or None."""
    radius = rng.uniform(*RADIUS)
    mask, depth, centre = _shape(rng, kind, radius, size)
    kept = np.where(mask, len(areas), owner)
    left = np.bincount(kept[kept >= 0], minlength=len(areas) + 1)[:len(areas)]
    if np.any(left < VISIBLE * np.asarray(areas)):
        return None
    colour = (np.array([0.95, 0.8, 0.1]) + rng.uniform(-0.1, 0.1, 3) if kind == "duck"
              else rng.uniform(0.1, 0.95, 3))
    shade = colour * (0.35 + 0.65 * depth[..., None])  # matte: brighter where it faces us
    if rng.random() < 0.5:  # shiny: a specular highlight up and left of the centre
        y, x = np.mgrid[0:size, 0:size]
        spot = np.exp(-((y - centre[0] + 0.35 * radius) ** 2 + (x - centre[1] + 0.35 * radius)
                        ** 2) / (0.08 * radius ** 2))
        shade = shade + 0.8 * spot[..., None]
    image[mask] = np.clip(shade[mask], 0, 1)
    owner[:] = kept
    areas.append(int(mask.sum()))
    return centre


def scene(rng, spec, size=SIZE):
    """(image (size, size, 3) uint8, counts, objects [(class, row, col)]) or None when the
    objects could not be placed (the caller draws again)."""
    counts = rng.integers(0, spec.l_max + 1, len(spec.classes))
    image = background(rng, SCENES[int(rng.integers(len(SCENES)))], size)
    owner = np.full((size, size), -1)
    areas, objects = [], []
    for c in rng.permutation(np.repeat(np.arange(len(spec.classes)), counts)):
        for _ in range(ATTEMPTS):
            centre = _paint(rng, image, owner, areas, spec.classes[c], size)
            if centre is not None:
                break
        else:
            return None
        objects.append((int(c), *centre))
    return (255 * image).round().astype(np.uint8), counts, objects


def side(size):
    """The side of a square scene `size` (a side, or a "WIDTHxHEIGHT" that is square, as
    `collages.shape` reads it), at least one largest object across."""
    height, width = collages.shape(size)
    if height != width:
        raise InputError(f"the scenes are square: give --size SIDE, not {size}")
    if height < 2 * RADIUS[1]:
        raise InputError(f"scene side {height} is below {2 * RADIUS[1]}, the largest object's "
                         f"diameter: give a larger --size")
    return height


def examples(spec, count, seed, test_fraction=0.125, size=SIZE):
    """`collages.assemble`d scenes (no object is shared, so the split is a coin per image)."""
    return collages.assemble(spec, count, seed, test_fraction, (size, size, 3),
                             lambda rng, test: scene(rng, spec, size))
