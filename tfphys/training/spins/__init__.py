"""Spin-model training (thesis: the Ising CNN and EDNN, the other Hamiltonians of that paper):
`run` turns a preset into data, a model and scores, `evaluate` the accuracy figures,
`spin_training.train_preset` what bin/train_cnn, bin/train_ednn and the benchmarks run."""
