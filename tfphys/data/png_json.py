"""Counting datasets as PNG images plus one JSON file of labels, the paper's format, so a
user's own images load like the generated ones:

    DIR/labels.json  {"format": "tfphys-png-json-1", "classes": ["4", "8"],
                      "images": {"000000.png": {"counts": [3, 5], "split": "train"}, ...}}
    DIR/000000.png   8-bit greyscale or RGB, all of one size and channel count

A missing "split" is decided by the SHA3 hash of the file's bytes (`split.is_test`).
`write_part` stores a chunk of images and its labels (atomically, so a resumed run skips
finished chunks); `finish` merges the parts into labels.json; `read` checks every file's PNG
header and the labels before any training.
"""

import glob
import io
import json
import math
import os

import numpy as np
from PIL import Image

from tfphys import outputs
from tfphys.data import split
from tfphys.errors import InputError

FORMAT = "tfphys-png-json-1"
LABELS = "labels.json"
CHANNELS = {0: 1, 2: 3}  # PNG colour types tfphys reads: greyscale, RGB
TEST_FRACTION = 0.125


def _png_bytes(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def write_part(directory, part, names, images, counts, test):
    """Write images (n, H, W[, 3]) uint8 as DIR/<name>.png and their labels as part `part`."""
    for name, image in zip(names, images):
        data = _png_bytes(image)
        outputs.atomic_write(os.path.join(directory, name), lambda handle: handle.write(data))
    labels = {name: {"counts": [float(v) for v in c], "split": "test" if t else "train"}
              for name, c, t in zip(names, counts, test)}
    text = json.dumps(labels).encode()
    outputs.atomic_write(os.path.join(directory, f".part-{part:05d}.json"),
                         lambda handle: handle.write(text))


def done_parts(directory):
    return {int(os.path.basename(p)[6:11]) for p in glob.glob(os.path.join(
        glob.escape(directory), ".part-*.json"))}


def finish(directory, classes):
    """Merge the written parts into DIR/labels.json."""
    merged = {}
    for path in sorted(glob.glob(os.path.join(glob.escape(directory), ".part-*.json"))):
        with open(path) as handle:
            merged.update(json.load(handle))
    text = json.dumps({"format": FORMAT, "classes": [str(c) for c in classes],
                       "images": merged}).encode()
    outputs.atomic_write(os.path.join(directory, LABELS), lambda handle: handle.write(text))


def _header(path):
    """(height, width, channels) from a PNG file's IHDR chunk, or InputError."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(26)
    except OSError as error:
        raise InputError(f"cannot read image {path} ({error.strerror})") from None
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise InputError(f"{path} is not a PNG image")
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[24] != 8 or head[25] not in CHANNELS:
        raise InputError(f"{path} is not an 8-bit greyscale or RGB PNG (bit depth {head[24]}, "
                         f"colour type {head[25]}); convert it")
    return height, width, CHANNELS[head[25]]


def read(directory):
    """(paths, counts (n, classes) float32, test (n,) bool, classes, (H, W, channels))."""
    path = os.path.join(directory, LABELS)
    labels = outputs.read_marker(path, FORMAT, f"write {LABELS} as tfphys's PNG+JSON format")
    classes, images = labels.get("classes"), labels.get("images")
    if not classes or not isinstance(images, dict) or not images:
        raise InputError(f"{path} needs a non-empty \"classes\" list and \"images\" object")
    names = sorted(images)
    paths = [os.path.join(directory, name) for name in names]
    shapes = {name: _header(p) for name, p in zip(names, paths)}
    first = shapes[names[0]]
    for name, shape in shapes.items():
        if shape != first:
            raise InputError(f"{name} is {shape[0]}x{shape[1]}x{shape[2]}, {names[0]} is "
                             f"{first[0]}x{first[1]}x{first[2]}: one size and channel count")
    counts = []
    for name in names:
        value = images[name].get("counts") if isinstance(images[name], dict) else None
        if (not isinstance(value, list) or len(value) != len(classes)
                or not all(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0
                           for v in value)):
            raise InputError(f"{path}: {name} needs \"counts\", {len(classes)} finite "
                             f"non-negative numbers, got {value!r}")
        counts.append(value)
    test = np.array([_is_test(images[n], p) for n, p in zip(names, paths)])
    return paths, np.array(counts, np.float32), test, classes, first


def _is_test(entry, path):
    if "split" in entry:
        if entry["split"] not in ("train", "test"):
            raise InputError(f"{path}: split must be \"train\" or \"test\", got "
                             f"{entry['split']!r}")
        return entry["split"] == "test"
    with open(path, "rb") as handle:
        return bool(split.is_test(np.frombuffer(handle.read(), np.uint8)[None],
                                  TEST_FRACTION)[0])
