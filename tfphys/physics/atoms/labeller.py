"""Electronic-structure energies of sheets behind ASE's calculator interface: GFN1-xTB and
GFN2-xTB from tblite (periodic, Gamma point only), standing in for the thesis's DFT, which
cannot run here; a user's DFT energies (extxyz, vasprun.xml) enter through
`tfphys.data.structures` unchanged.

Graphene's small gap needs a finite electronic temperature (Fermi smearing) and periodic GFN2
sheets may not converge at the first one, so `label` retries at the next of TEMPERATURES and
returns the temperature that converged with the energy; `provenance` is what a dataset records.
`cohesive` subtracts the method's own free-atom energies (spin-restricted, as the sheets are):
the extensive quantity the EDNN learns, without the ~50 eV per atom that only counts atoms.

tblite's wheel bundles the reference (netlib) BLAS and LAPACK, where a porous cell's SCF spends
nearly all its time; `LAPACK` puts MKL's (installed with tfphys on x86-64 Linux) in front of them
before tblite loads: 4.1x more porous cells per hour on 2 cores, the same energies
(benchmarks/sheet_labelling.py). TFPHYS_LAPACK=bundled keeps tblite's own.
"""

import concurrent.futures
import ctypes
import functools
import importlib.metadata
import os
import sys

import ase
from threadpoolctl import threadpool_limits

from tfphys.errors import InputError, JobFailed


def _load_mkl():
    """Put MKL's BLAS and LAPACK into the process's global symbol scope, where the dynamic
    linker looks before a library's own dependencies, so that tblite (imported after this)
    calls them: one thread per call, as `label_many` runs one structure per core, and the
    gfortran calling convention tblite was built with. The LAPACK tblite will use."""
    path = os.path.join(sys.prefix, "lib", "libmkl_rt.so.3")
    bundled = "reference LAPACK bundled with tblite"
    if "tblite" in sys.modules:  # its library is bound already
        return f"{bundled} (tblite was imported before tfphys)"
    if os.environ.get("TFPHYS_LAPACK", "mkl") != "mkl" or not os.path.exists(path):
        return bundled
    os.environ.setdefault("MKL_THREADING_LAYER", "SEQUENTIAL")
    os.environ.setdefault("MKL_INTERFACE_LAYER", "GNU,LP64")
    ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    return f"MKL {importlib.metadata.version('mkl')}"


LAPACK = _load_mkl()
from tblite.ase import TBLite  # noqa: E402 (after _load_mkl, which it must see)

METHODS = {"gfn1": "GFN1-xTB", "gfn2": "GFN2-xTB"}
TEMPERATURES = (1000.0, 3000.0, 5000.0)  # K: electronic temperatures tried in turn
ACCURACY = 1.0  # tblite's SCF accuracy (its default)
MAX_ITERATIONS = 250


def key(name):
    """The METHODS key of a method's full name (e.g. "GFN1-xTB" -> "gfn1"), None if unknown."""
    return {full: short for short, full in METHODS.items()}.get(name)


def calculator(method, electronic_temperature=TEMPERATURES[0]):
    """An ASE calculator for `method` (a key of METHODS)."""
    if method not in METHODS:
        raise InputError(f"unknown calculator {method!r}; choose from {', '.join(METHODS)}")
    return TBLite(method=METHODS[method], electronic_temperature=electronic_temperature,
                  accuracy=ACCURACY, max_iterations=MAX_ITERATIONS, verbosity=0)


def label(atoms, method):
    """(energy in eV, electronic temperature in K that converged) of one structure."""
    atoms = atoms.copy()
    failures = []
    for temperature in TEMPERATURES:
        atoms.calc = calculator(method, temperature)
        try:
            return float(atoms.get_potential_energy()), temperature
        except Exception as error:  # tblite raises its own error types for an SCF failure
            failures.append(f"{temperature:g} K: {str(error).splitlines()[0][:80]}")
    raise JobFailed(f"{METHODS[method]} did not converge for {atoms.get_chemical_formula()} "
                    f"({'; '.join(failures)})")


def label_many(structures, method, workers=None):
    """`label` of every structure, `workers` threads (default: every core) of one BLAS thread
    each (tblite releases the GIL)."""
    with threadpool_limits(1), concurrent.futures.ThreadPoolExecutor(
            workers or os.cpu_count() or 1) as pool:
        return list(pool.map(lambda atoms: label(atoms, method), structures))


@functools.lru_cache(maxsize=None)
def atom_energy(symbol, method):
    """The energy in eV of one free atom of `symbol` by `method` (the cohesive reference)."""
    return label(ase.Atoms(symbol), method)[0]


def free_atoms(atoms, method):
    """The summed free-atom energies of the atoms of `atoms`, in eV."""
    return sum(atom_energy(s, method) for s in atoms.get_chemical_symbols())


def cohesive(atoms, energy, method):
    """`energy` of `atoms` minus its free-atom energies, in eV."""
    return energy - free_atoms(atoms, method)


def provenance(method):
    """What produced the energies: method, code and version, settings."""
    return {"method": METHODS[method], "code": f"tblite {importlib.metadata.version('tblite')}",
            "kpoints": "Gamma only", "electronic_temperatures_K": list(TEMPERATURES),
            "accuracy": ACCURACY, "max_iterations": MAX_ITERATIONS, "units": "eV",
            "lapack": LAPACK}


class LabellerEnergy:
    """`method`'s energy of a sheet as a Monte Carlo energy (`metropolis.PositionMetropolis`):
    every trial recomputes the whole cell (the reference the EDNN is compared with)."""

    def __init__(self, atoms, method):
        self.atoms, self.method, self._trial = atoms.copy(), method, None

    def reset(self, positions):
        self.atoms.positions = positions
        return label(self.atoms, self.method)[0]

    def trial(self, i, position):
        moved = self.atoms.copy()
        moved.positions[i] = position
        self._trial = moved
        return label(moved, self.method)[0]

    def commit(self):
        self.atoms = self._trial
