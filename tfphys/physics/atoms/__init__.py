"""Atomistic systems (thesis: atoms as pictures, EDNNs on electronic-structure energies): `images`
turns an `ase.Atoms` sheet into the thesis's Gaussian image on its periodic cell."""
