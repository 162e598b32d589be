"""Spin models (thesis: the Ising CNN and EDNN papers, COOL's spin glasses): Hamiltonians
(`couplings`, `ising`, `longrange`, `potts`, on `lattice`), the Numba Monte Carlo engines
(`flips` + `metropolis`, `window`, `operator_mc`), thermodynamics (`thermo`), targeted sampling
(`targeted`) and proven Edwards-Anderson ground states (`ground_states`)."""
