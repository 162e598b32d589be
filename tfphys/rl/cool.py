"""COOL (thesis: "Finding the ground state of spin Hamiltonians with reinforcement learning"):
simulated annealing as a TF-Agents environment.

One episode anneals `n_replicas` replicas of one Hamiltonian for `n_steps` steps of
`sweeps_per_step` Metropolis sweeps (thesis: 64 x 40 x 100). Replicas start Bernoulli with a
spin-up probability drawn uniformly per replica (weak-strong clusters: in the local minimum,
each cluster along its own field). The action is the change of beta over the next step,
applied linearly sweep by sweep; a change that would make beta negative is ignored and the
system keeps its temperature. The observation is the (replicas, spins) array of +-1; the reward
is 0 before the last step and -min_k H(replica k) at the last step (sparse). `start_beta`,
`schedule` (the betas of every step) and `acceptance` (the mean Metropolis acceptance of every
step) record the episode for plots. With `step_in_observation` the observation is {"spins", "step"
(step / n_steps)}: the thesis's ablation, an agent without memory that knows the time.

Destructive observation (quantum-inspired): every observation consumes its replicas; the next
one comes from fresh replicas annealed from the start through the whole action history, so an
episode costs n_steps (n_steps + 1) / 2 steps of sweeps.

Hamiltonians come from `source(rng) -> Couplings`, called at every reset: `fixed(c)` (the same
model every episode: WSC, the ferromagnet), `spin_glasses(L)` (a new Edwards-Anderson instance
every episode) or `instance_file(path)` (the instances of a ground-state file in turn).
"""

import numpy as np
from tf_agents.environments import py_environment
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts

from tfphys import checks
from tfphys.errors import InputError
from tfphys.physics.spins import couplings as couplings_lib
from tfphys.physics import annealing
from tfphys.physics.spins import ground_states
from tfphys.physics.spins.metropolis import Metropolis


def field_aligned(model):
    """Every spin along its own field (+1 where h >= 0): the WSC local minimum."""
    return np.where(model.field >= 0, 1, -1)


def fixed(model):
    """A source giving the same `Couplings` every episode."""
    return lambda rng: model


def spin_glasses(L):
    """A source drawing a new Gaussian Edwards-Anderson instance on an L x L torus per episode."""
    return lambda rng: couplings_lib.edwards_anderson(L, seed=int(rng.integers(2 ** 63)))


def instance_file(path):
    """A source cycling through the instances of a ground-state file (bin/ground_states)."""
    data = ground_states.load(path)
    models = [ground_states.couplings(r, d) for r, d in zip(data["J_right"], data["J_down"])]
    state = {"next": 0}

    def source(rng):
        model = models[state["next"] % len(models)]
        state["next"] += 1
        return model
    return source


class AnnealingEnvironment(py_environment.PyEnvironment):
    """Simulated annealing as a game: observe replicas, choose delta-beta, reward at the end.

    `beta0`: the inverse temperature at reset, a number or a (low, high) range drawn uniformly
    every episode; `start`: "bernoulli" or "local_minimum" (spins along their fields);
    `max_change`: bound of the action |delta-beta| per step; `order`: the Metropolis sweep
    order ("random" is the thesis's: N random proposals a sweep)."""

    def __init__(self, source, n_replicas=64, n_steps=40, sweeps_per_step=100, beta0=0.1,
                 start="bernoulli", destructive=False, max_change=1.0, order="random", seed=None,
                 step_in_observation=False):
        super().__init__()
        self._source = source
        self.n_replicas = checks.integer("n_replicas", n_replicas, low=1)
        self.n_steps = checks.integer("n_steps", n_steps, low=1)
        self.sweeps_per_step = checks.integer("sweeps_per_step", sweeps_per_step, low=1)
        if start not in ("bernoulli", "local_minimum"):
            raise InputError(f"unknown start {start!r}; choose 'bernoulli' or 'local_minimum'")
        low, high = (beta0, beta0) if np.ndim(beta0) == 0 else beta0
        for value in (low, high):
            checks.real("beta0", value, low=0)
        self._beta0, self._start, self.destructive = (float(low), float(high)), start, destructive
        self._order, self._rng = order, np.random.default_rng(seed)
        self.model = self._first = source(self._rng)  # sizes the specs; played first
        spins = array_spec.ArraySpec((self.n_replicas, self.model.n), np.float32, "spins")
        self._with_step = bool(step_in_observation)
        self._observation_spec = ({"spins": spins, "step": array_spec.ArraySpec((1,), np.float32,
                                                                                "step")}
                                  if self._with_step else spins)
        self._action_spec = array_spec.BoundedArraySpec((), np.float32, -max_change, max_change,
                                                        "delta_beta")
        self.engine, self.beta, self.start_beta, self.step_index = None, 0.0, 0.0, 0
        self.schedule = []
        self.sweeps_run, self.acceptance = 0, []

    def reseed(self, seed):
        """Draw what follows (models, start temperatures, replicas) from `seed` alone; the next
        episode starts from a new draw (a resumable training run calls it every update)."""
        self._rng, self._first = np.random.default_rng(seed), None

    def observation_spec(self):
        return self._observation_spec

    def action_spec(self):
        return self._action_spec

    def _fresh_engine(self):
        """Replicas of the current model at their episode start."""
        seed = int(self._rng.integers(2 ** 63))
        if self._start == "local_minimum":
            spins = np.tile(field_aligned(self.model), (self.n_replicas, 1))
        else:
            up = self._rng.uniform(size=(self.n_replicas, 1))
            spins = np.where(self._rng.uniform(size=(self.n_replicas, self.model.n)) < up, 1, -1)
        return Metropolis(self.model, self.n_replicas, seed=seed, order=self._order, spins=spins)

    def _observe(self):
        spins = self.engine.spins.reshape(self.n_replicas, -1).astype(np.float32)
        if self._with_step:  # the no-LSTM agent's only sense of time
            return {"spins": spins, "step": np.float32([self.step_index / self.n_steps])}
        return spins

    def _reset(self):
        self.model = self._first if self._first is not None else self._source(self._rng)
        self._first = None
        spins = self._observation_spec["spins"] if self._with_step else self._observation_spec
        if self.model.n != spins.shape[1]:
            raise InputError(f"the source gave a model of {self.model.n} spins; this environment "
                             f"observes {spins.shape[1]}")
        self.beta = self.start_beta = float(self._rng.uniform(*self._beta0))
        self.engine, self.step_index, self.schedule = self._fresh_engine(), 0, []
        self.sweeps_run, self.acceptance = 0, []
        return ts.restart(self._observe())

    def _step(self, action):
        if self.current_time_step().is_last():
            return self.reset()
        betas = annealing.step_schedule(self.beta, float(np.asarray(action).reshape(())),
                                        self.sweeps_per_step)
        self.schedule.append(betas)
        self.beta, self.step_index = float(betas[-1]), self.step_index + 1
        if self.destructive:  # the last observation consumed its replicas: replay on new ones
            self.engine = self._fresh_engine()
            history = np.concatenate(self.schedule)
        else:
            history = betas
        trace = self.engine.run(history)
        self.sweeps_run += len(history)
        self.acceptance.append(float(trace.acceptance[:, -self.sweeps_per_step:].mean()))
        if self.step_index < self.n_steps:
            return ts.transition(self._observe(), reward=np.float32(0.0))
        return ts.termination(self._observe(), reward=np.float32(-self.engine.energy.min()))
