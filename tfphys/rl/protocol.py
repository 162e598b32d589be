"""The thesis's COOL evaluation protocol as plain functions (bin/evaluate_cool prints them).

`spin_glass_rows`: on an instance file with proven ground states, p, n99 and its 95 % interval
of a trained policy and of the baselines at equal sweeps and replicas — `linear` (classic SA,
the best (beta_i, beta_f) of a grid), `dwave` (dwave-samplers SA, its default geometric
schedule) and `dwave_grid` (its best geometric schedule of the same grid) —, the policy's
average schedule replayed open-loop (thesis Fig. 5d) and the easy/difficult split (instances
where the best linear SA succeeds in more / at most `split` of its runs). `wsc_rows`: success
of the policy and of the best linear SA from the WSC local minimum at each start beta (thesis
Fig. 3b). Every row is {label: figures}; `policy_*` keys hold the policy's schedules for plots.
"""

import dataclasses

import numpy as np

from tfphys.errors import InputError
from tfphys.physics.spins import couplings, ground_states
from tfphys.rl import agent, cool, evaluation

BASELINES = ("linear", "dwave", "dwave_grid")
# The thesis's published n99 per L (classic SA, RL); inf: never succeeded.
THESIS_N99 = {"classic SA (thesis)": {4: 0.83, 6: 1.7, 8: 5.0, 10: 25, 12: 265, 14: 7673,
                                      16: np.inf},
              "RL (thesis)": {4: 0, 6: 1.04, 8: 1.85, 10: 6.7, 12: 15.7, 14: 94, 16: 305}}


def instances(path):
    """(L, [(Couplings, ground energy)]) of an instance file whose ground energies are proven."""
    data = ground_states.load(path)
    if "ground_energy" not in data:
        raise InputError(f"{path}: no ground_energy; prove them first with "
                         f"bin/ground_states --instances {path} --out FILE.npz")
    return data["J_right"].shape[1], [(ground_states.couplings(r, d), float(e)) for r, d, e in
                                      zip(data["J_right"], data["J_down"], data["ground_energy"])]


def method(label):
    """The method of a row label, without its settings and subset ("linear SA beta 0.1 -> 3
    (best of grid) [easy: 9 instances]" -> "linear SA"): the curves of n99 against L."""
    return label.split(" [")[0].split(" (")[0].split(" beta")[0]


def check_baselines(baselines):
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise InputError(f"unknown baseline(s) {unknown}; choose from {', '.join(BASELINES)}")


def spin_glass_rows(models, policy=None, baselines=BASELINES, runs=100, sweeps=4000,
                    replicas=64, seed=0, replay=False, split=None):
    """{label: Score} on `models` [(Couplings, ground energy)] plus "policy_betas" and
    "policy_acceptance" with a policy (`agent.load_policy`'s (network, preset)); `replay` adds
    the policy's average schedule; `split` adds every method on the easy and difficult
    instances (needs the linear baseline)."""
    check_baselines(baselines)
    if replay and policy is None:
        raise InputError("--replay replays a policy's average schedule: give --policy")
    if split is not None and "linear" not in baselines:
        raise InputError("--split sorts instances by the linear SA's success: keep 'linear' in "
                         "--baselines")
    rows, extra = {}, {}
    if policy is not None:
        network, preset = policy
        score, betas, acceptance = agent.policy_score(network, preset, models, runs, seed)
        rows[f"COOL policy ({preset.name})"] = score
        extra = {"policy_betas": betas, "policy_acceptance": acceptance}
        if replay:
            schedule = agent.replay_schedule(betas, preset.sweeps)
            rows["average policy schedule replayed"] = evaluation.score(
                lambda m, s: evaluation.schedule_sa(m, schedule, preset.replicas, s, "replicas"),
                models, runs, seed)
    if "linear" in baselines:
        (beta_i, beta_f), score = evaluation.best_linear(models, runs, sweeps=sweeps,
                                                         replicas=replicas, seed=seed,
                                                         order="replicas")
        rows[f"linear SA beta {beta_i} -> {beta_f} (best of grid)"] = score
        linear = score
    if "dwave" in baselines:
        rows["dwave-samplers SA (default geometric schedule)"] = evaluation.score(
            lambda m, s: evaluation.dwave_sa(m, sweeps, replicas, s), models, runs, seed)
    if "dwave_grid" in baselines:
        (beta_i, beta_f), score = evaluation.best_geometric(models, runs, sweeps=sweeps,
                                                            replicas=replicas, seed=seed)
        rows[f"dwave-samplers SA geometric beta {beta_i} -> {beta_f} (best of grid)"] = score
    if split is not None:
        difficult = linear.per_instance <= split * runs
        for label, score in list(rows.items()):
            rows[f"{label} [easy: {int((~difficult).sum())} instances]"] = score.subset(~difficult)
            rows[f"{label} [difficult: {int(difficult.sum())} instances]"] = score.subset(difficult)
    return rows, extra


def wsc_rows(policy, start_betas, runs=100, grid_f=(1.0, 2.0, 3.0, 5.0, 10.0), seed=0):
    """{start beta: {label: Score}} of the WSC policy (its preset's replicas, steps and sweeps,
    from the local minimum at that beta) and of the best linear SA from the same start and beta
    over the same sweeps; and each start beta's policy schedules {beta: (betas, acceptance)}."""
    network, preset = policy
    if preset.hamiltonian != "wsc":
        raise InputError(f"the policy was trained on {preset.hamiltonian}, not on the WSC model")
    model = couplings.weak_strong_clusters()
    models = [(model, evaluation.ground_energy(model))]
    rows, schedules = {}, {}
    for beta in start_betas:
        fixed = dataclasses.replace(preset, beta0=(float(beta), float(beta)))
        score, betas, acceptance = agent.policy_score(network, fixed, models, runs, seed)
        (_, beta_f), linear = evaluation.best_linear(
            models, runs, grid_i=(float(beta),), grid_f=grid_f, sweeps=preset.steps * preset.sweeps,
            replicas=preset.replicas, seed=seed, order="replicas", start=cool.field_aligned)
        rows[float(beta)] = {"COOL policy": score,
                             f"linear SA beta {beta} -> {beta_f} (best beta_f of grid)": linear}
        schedules[float(beta)] = (betas, acceptance)
    return rows, schedules
