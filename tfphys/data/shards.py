"""Sharded on-disk datasets: `shard-00000.npz` files plus a `manifest.json`.

Each shard is an uncompressed NumPy archive holding the same fields (e.g. `spins`, `energy`,
`magnetization`, `label`, `test`), one row per example. The manifest lists the fields (dtype
and per-example shape), every shard with its example count and SHA-256, and the generator's
metadata. Shards and the manifest are written to a temporary name and renamed, so a crash never
leaves a half-written file under a real name; the manifest is rewritten after every shard, so
an interrupted generation resumes after the last complete shard.
"""

import hashlib
import json
import os
import zipfile

import numpy as np

from tfphys.errors import InputError

MANIFEST = "manifest.json"
FORMAT = "tfphys-shards/1"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path, write):
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class ShardWriter:
    """Append shards to `directory`; reopening a directory continues where it stopped.

    `metadata` describes the generator; reopening with different metadata is an error (it
    would mix two datasets).
    """

    def __init__(self, directory, metadata):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, MANIFEST)
        metadata = json.loads(json.dumps(metadata))  # normalise tuples etc. for comparison
        if os.path.exists(path):
            self.manifest = read_manifest(directory)
            if self.manifest["metadata"] != metadata:
                raise InputError(f"{directory} holds a dataset made with other settings "
                                 f"({self.manifest['metadata']}); choose another output directory")
        else:
            self.manifest = {"format": FORMAT, "metadata": metadata, "fields": None, "shards": [],
                             "count": 0}

    @property
    def count(self):
        return self.manifest["count"]

    @property
    def n_shards(self):
        return len(self.manifest["shards"])

    def write(self, **fields):
        """Write one shard from equal-length arrays; returns its file name."""
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
        name = f"shard-{self.n_shards:05d}.npz"
        path = os.path.join(self.directory, name)
        _atomic_write(path, lambda handle: np.savez(handle, **fields))
        self.manifest["shards"].append({"file": name, "count": lengths.pop(), "sha256": _sha256(path)})
        self.manifest["count"] = sum(s["count"] for s in self.manifest["shards"])
        text = json.dumps(self.manifest, indent=1).encode()
        _atomic_write(os.path.join(self.directory, MANIFEST), lambda handle: handle.write(text))
        return name


def read_manifest(directory):
    """The manifest of a shard directory, with a clear error if it is missing or unreadable."""
    path = os.path.join(directory, MANIFEST)
    if not os.path.exists(path):
        raise InputError(f"no dataset at {directory}: {MANIFEST} is missing "
                         "(generate one with bin/generate_spins --out DIR)")
    try:
        with open(path) as handle:
            manifest = json.load(handle)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not a readable manifest ({exc}); regenerate the dataset") from exc
    if manifest.get("format") != FORMAT:
        raise InputError(f"{path} has format {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest


def read_shard(directory, entry, verify=True):
    """Load one shard as {field: array}; a truncated or corrupt shard raises InputError naming it."""
    path = os.path.join(directory, entry["file"])
    fix = "delete it and rerun the generator with the same flags to remake it"
    if not os.path.exists(path):
        raise InputError(f"shard {path} listed in the manifest is missing; {fix}")
    if verify and _sha256(path) != entry["sha256"]:
        raise InputError(f"shard {path} is truncated or corrupt (SHA-256 mismatch); {fix}")
    try:
        with np.load(path) as archive:
            data = {k: archive[k] for k in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"shard {path} cannot be read ({exc}); {fix}") from exc
    if any(len(v) != entry["count"] for v in data.values()):
        raise InputError(f"shard {path} holds a different number of examples than its manifest; {fix}")
    return data


def load(directory, verify=True):
    """Every shard of a dataset concatenated: {field: array}."""
    manifest = read_manifest(directory)
    parts = [read_shard(directory, entry, verify) for entry in manifest["shards"]]
    if not parts:
        raise InputError(f"the dataset at {directory} has no shards yet")
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
