"""Adversarial training (thesis: the 2017 GAN of Ising phase space, RUGAN, the porous-sheet
RUGAN): `gan_training`, `rugan_training`, `sheet_rugan_training`, each a preset table, a
`train_*` through `fit.train` and the generator's scores."""
