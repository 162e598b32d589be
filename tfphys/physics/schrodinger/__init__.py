"""One electron in a 2D potential (thesis: "Deep learning and the Schrödinger equation"): the
four potential classes of its Appendix B (`potentials`) and a finite-difference eigensolver for
the two lowest energies and the kinetic energy (`solver`)."""
