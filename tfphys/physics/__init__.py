"""Physics layer: Hamiltonians, Monte Carlo, annealing, sampling. NumPy/Numba first, with
TensorFlow versions of the energies for use inside models and tf.data. Imports nothing from
the other tfphys layers."""
