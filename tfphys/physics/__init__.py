"""Physics layer: Hamiltonians, Monte Carlo, annealing, sampling. NumPy/Numba first, with
TensorFlow versions of the energies for use inside models and tf.data. Imports nothing from
the other tfphys layers. `engine` (the one Monte Carlo interface) and `annealing` (any engine)
serve every system; each system has its subpackage: `spins`, `schrodinger`, `atoms`."""
