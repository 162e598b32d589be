"""Reinforcement learning for physics: COOL, simulated annealing driven by a TF-Agents policy."""
