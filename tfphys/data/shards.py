"""Sharded on-disk datasets: `shard-00000.npz` files plus a `manifest.json`.

Each shard is an uncompressed NumPy archive holding the same fields (e.g. `spins`, `energy`,
`magnetization`, `label`, `test`), one row per example. The manifest lists the fields (dtype
and per-example shape), every shard with its example count and SHA-256, and the generator's
metadata. Shards and the manifest are written to a temporary name and renamed, so a crash never
leaves a half-written file under a real name; the manifest is rewritten after every shard.

Reopening a dataset heals it: every listed shard is checked against its SHA-256, and shards
that are missing or corrupt are planned again with the ones never written, so a generator
that makes shard k from a seed of its own remakes them identically; for the same reason a
rerun may raise the metadata's "count", which grows the dataset. Temporaries left by a
killed writer are removed. Manifest entries must be shard-NNNNN.npz names inside the folder.
"""

import glob
import hashlib
import json
import os
import re
import zipfile

import numpy as np

from tfphys import outputs
from tfphys.errors import InputError

MANIFEST = "manifest.json"
FORMAT = "tfphys-shards/1"
SHARD_NAME = re.compile(r"shard-(\d{5})\.npz")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _intact(directory, entry):
    path = os.path.join(directory, entry["file"])
    return os.path.exists(path) and _sha256(path) == entry["sha256"]


def sizes(total, shard_size):
    """(k, examples) of every shard of a dataset of `total` examples in shards of `shard_size`
    (the last one holds the remainder)."""
    return [(k, min(shard_size, total - k * shard_size)) for k in range(-(-total // shard_size))]


class ShardWriter:
    """Write shard k of `directory` with `write(k, **fields)`; reopening a directory keeps its
    intact shards, and `plan(total, shard_size)` lists the shards still to (re)make.

    `metadata` describes the generator; reopening with different metadata is an error (it
    would mix two datasets), except a larger "count", which grows it. A folder holding
    anything but a tfphys dataset is refused.
    """

    def __init__(self, directory, metadata):
        outputs.claim_dir(directory, MANIFEST, "tfphys dataset", "--out")
        self.directory = directory
        metadata = json.loads(json.dumps(metadata))  # normalise tuples etc. for comparison
        if os.path.exists(os.path.join(directory, MANIFEST)):
            self.manifest = read_manifest(directory)
            stored = self.manifest["metadata"]
            counts = _counts(stored, metadata) if stored != metadata else (0, 0)
            if counts is None or counts[1] < counts[0]:
                why = (f"({stored})" if counts is None else
                       f"(count {counts[0]}: a rerun may raise --count, not lower it)")
                raise InputError(f"{directory} holds a dataset made with other settings {why}; "
                                 "choose another output directory")
            self.manifest["metadata"] = metadata
        else:
            self.manifest = {"format": FORMAT, "metadata": metadata, "fields": None, "shards": [],
                             "count": 0}
        for stale in glob.glob(os.path.join(glob.escape(directory), "*.tmp-*")):
            os.remove(stale)
        self.broken = [e["file"] for e in self.manifest["shards"] if not _intact(directory, e)]
        self.manifest["shards"] = [e for e in self.manifest["shards"] if e["file"] not in self.broken]

    @property
    def count(self):
        return sum(entry["count"] for entry in self.manifest["shards"])

    @property
    def n_shards(self):
        return len(self.manifest["shards"])

    def plan(self, total, shard_size):
        """(k, examples) of every shard still to make for `total` examples in shards of
        `shard_size` (the last one holds the remainder): missing, corrupt, never written, or
        of another length (a grown dataset's old last shard)."""
        return [(k, n) for k, n in sizes(total, shard_size) if self.written.get(k) != n]

    @property
    def written(self):
        """{k: examples} of the intact shards."""
        return {int(SHARD_NAME.fullmatch(e["file"]).group(1)): e["count"]
                for e in self.manifest["shards"]}

    def write(self, index, **fields):
        """Write shard `index` from equal-length arrays; returns its file name."""
        lengths = {len(v) for v in fields.values()}
        if len(lengths) != 1:
            raise InputError(f"shard fields have different lengths: "
                             f"{ {k: len(v) for k, v in fields.items()} }")
        spec = {k: {"dtype": np.asarray(v).dtype.str, "shape": list(np.shape(v)[1:])}
                for k, v in fields.items()}
        if self.manifest["fields"] is None:
            self.manifest["fields"] = spec
        elif self.manifest["fields"] != spec:
            raise InputError(f"shard fields {spec} differ from the dataset's {self.manifest['fields']}")
        name = f"shard-{index:05d}.npz"
        path = os.path.join(self.directory, name)
        try:
            os.makedirs(self.directory, exist_ok=True)
            outputs.atomic_write(path, lambda handle: np.savez(handle, **fields))
        except OSError as exc:
            raise InputError(f"cannot write {path} ({exc.strerror}); choose another --out") from None
        entries = [e for e in self.manifest["shards"] if e["file"] != name]
        entries.append({"file": name, "count": lengths.pop(), "sha256": _sha256(path)})
        self.manifest["shards"] = sorted(entries, key=lambda e: e["file"])
        self.manifest["count"] = self.count
        text = json.dumps(self.manifest, indent=1).encode()
        outputs.atomic_write(os.path.join(self.directory, MANIFEST), lambda handle: handle.write(text))
        return name


def _counts(stored, metadata):
    """(stored, new) "count" when the two differ in nothing else, else None. A larger count
    grows the dataset: every generator seeds shard k by (seed, k), so more shards give what a
    fresh run at that count would make (`plan` remakes the old last shard at its new length)."""
    rest = [{k: v for k, v in m.items() if k != "count"} for m in (stored, metadata)]
    counts = stored.get("count"), metadata.get("count")
    return counts if rest[0] == rest[1] and all(isinstance(c, int) for c in counts) else None


def read_manifest(directory):
    """The manifest of a shard directory, with a clear error if it is missing, unreadable or
    malformed (e.g. a shard entry naming a file outside the dataset folder)."""
    path = os.path.join(directory, MANIFEST)
    if not os.path.exists(path):
        raise InputError(f"no dataset at {directory}: {MANIFEST} is missing "
                         "(make one with --out DIR of a bin/generate_* script)")
    manifest = outputs.read_marker(path, FORMAT, "regenerate the dataset")
    if not isinstance(manifest.get("shards"), list) or not isinstance(manifest.get("fields"),
                                                                      (dict, type(None))):
        raise InputError(f"{path} lacks a 'shards' list or 'fields'; regenerate the dataset")
    for entry in manifest["shards"]:
        if not (isinstance(entry, dict) and isinstance(entry.get("file"), str)
                and SHARD_NAME.fullmatch(entry["file"]) and isinstance(entry.get("count"), int)
                and isinstance(entry.get("sha256"), str)):
            raise InputError(f"{path} lists a malformed shard entry {str(entry)[:120]}; entries "
                             "are shard-NNNNN.npz files inside the dataset folder: regenerate it")
    return manifest


def read_shard(directory, entry, verify=True):
    """Load one shard as {field: array}; a truncated or corrupt shard raises InputError naming it."""
    path = os.path.join(directory, entry["file"])
    fix = "rerun the generator with the same flags to remake it"
    if not os.path.exists(path):
        raise InputError(f"shard {path} listed in the manifest is missing; {fix}")
    if verify and _sha256(path) != entry["sha256"]:
        raise InputError(f"shard {path} is truncated or corrupt (SHA-256 mismatch); {fix}")
    try:
        with np.load(path) as archive:
            data = {k: archive[k] for k in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"shard {path} cannot be read ({exc}); {fix}") from None
    if any(len(v) != entry["count"] for v in data.values()):
        raise InputError(f"shard {path} holds a different number of examples than its manifest; {fix}")
    return data


def field(directory, name):
    """One field of every shard concatenated (e.g. the energies for a histogram), read a shard
    at a time so the other fields never sit in memory together."""
    return fields(directory, [name])[0]


def fields(directory, names):
    """Several fields of every shard concatenated, each shard read once (see `field`)."""
    manifest = read_manifest(directory)
    parts = [[read_shard(directory, entry)[name] for name in names]
             for entry in manifest["shards"]]
    if not parts:
        raise InputError(f"the dataset at {directory} has no shards yet")
    return [np.concatenate(column) for column in zip(*parts)]


def load(directory, verify=True):
    """Every shard of a small dataset concatenated: {field: array} (tests, 4x4 spaces);
    training and evaluation stream shards through `tfphys.data.pipeline` instead."""
    manifest = read_manifest(directory)
    parts = [read_shard(directory, entry, verify) for entry in manifest["shards"]]
    if not parts:
        raise InputError(f"the dataset at {directory} has no shards yet")
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
