"""Matplotlib figures (PNG) of results people would rather look at than read.

Functions take plain arrays or result objects and a path; they import no models, so any layer's
results can be plotted. Files are written atomically (temporary name, then rename).
"""

import itertools
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

MARKERS = "o^sxdv"  # one per curve, cycled when there are more curves


def _save(fig, path):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}.png")
    try:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def thermodynamics(curves, path, title=""):
    """<E>/N, C/N and <|M|>/N against T for one or more `Thermodynamics` results.

    `curves` maps a legend label (e.g. "exact Hamiltonian", "DNN operator") to a result.
    """
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    panels = (("energy", "<E>/N"), ("heat_capacity", "C/N"), ("abs_magnetization", "<|M|>/N"))
    for (name, label), ax in zip(panels, axes):
        for (legend, result), marker in zip(curves.items(), itertools.cycle(MARKERS)):
            ax.errorbar(result.temperature, getattr(result, name), getattr(result, f"{name}_err"),
                        marker=marker, ms=4, capsize=2, lw=1, label=legend)
        ax.set_xlabel("T  [J / k_B]")
        ax.set_ylabel(label)
    axes[0].legend()
    fig.suptitle(title)
    return _save(fig, path)


def energy_histogram(energies, path, title="", labels=None):
    """Histogram of dataset energies (one bar per distinct value when there are few)."""
    fig, ax = plt.subplots(figsize=(6, 3.8))
    energies = np.asarray(energies)
    values = np.unique(energies)
    if len(values) <= 128:
        counts = [(energies == v).sum() for v in values]
        ax.bar(values, counts, width=0.8 * np.min(np.diff(values)) if len(values) > 1 else 1.0)
    else:
        ax.hist(energies, bins=64)
    ax.set_xlabel("energy  [J]")
    ax.set_ylabel("examples")
    ax.set_title(title)
    return _save(fig, path)


def parity(predicted, true, path, title="", unit="J"):
    """Predicted against true values (the thesis's Figs. 3, 8, 11, 12) with the error below."""
    predicted, true = np.asarray(predicted).reshape(-1), np.asarray(true).reshape(-1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 6.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
    top.plot(true, predicted, ".", ms=2, alpha=0.5)
    lo, hi = min(true.min(), predicted.min()), max(true.max(), predicted.max())
    top.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    top.set_ylabel(f"predicted  [{unit}]")
    top.set_title(title)
    bottom.plot(true, predicted - true, ".", ms=2, alpha=0.5)
    bottom.axhline(0, color="k", lw=0.8)
    bottom.set_xlabel(f"true  [{unit}]")
    bottom.set_ylabel("error")
    return _save(fig, path)


def confusion(matrix, path, title=""):
    """Confusion matrix of energy classes on a log colour scale (true rows, predicted columns)."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    image = ax.imshow(np.log10(1 + np.asarray(matrix)), cmap="viridis")
    fig.colorbar(image, ax=ax, label="log10(1 + count)")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return _save(fig, path)


def lattices(spins, path, title="", columns=8):
    """A grid of spin configurations (n, L, L), up spins light, down spins dark."""
    spins = np.asarray(spins)
    n = len(spins)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, min(n, columns), figsize=(1.6 * min(n, columns), 1.6 * rows),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, lattice in zip(axes.ravel(), spins):
        ax.imshow(lattice, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    fig.suptitle(title)
    return _save(fig, path)


def gan_report(arrays, path, title=""):
    """The 2017 GAN's Figs. 3 and 4 in one: generated vs training E/N and m histograms, then
    the discriminator on a uniform-energy test set: predicted vs true E/N, and its confidence
    (mean and spread per energy) against E/N. `arrays`: training (n, 2), generated (n, 2) as
    (E/N, m); energy, predicted, confidence (test set)."""
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    for ax, column, name in ((axes[0], 0, "E/N"), (axes[1], 1, "m")):
        both = np.concatenate([arrays["training"][:, column], arrays["generated"][:, column]])
        bins = np.linspace(both.min() - 1e-3, both.max() + 1e-3, 41)
        ax.hist(arrays["training"][:, column], bins, density=True, histtype="step", ls="--",
                color="k", label="training")
        ax.hist(arrays["generated"][:, column], bins, density=True, alpha=0.6, label="generated")
        ax.set_xlabel(name)
    axes[0].legend()
    energy, predicted, confidence = (np.asarray(arrays[k]) for k in
                                     ("energy", "predicted", "confidence"))
    axes[2].plot(energy, predicted, ".", ms=2, alpha=0.3)
    axes[2].plot([-2, 2], [-2, 2], "k--", lw=0.8)
    axes[2].set_xlabel("true E/N (uniform test set)")
    axes[2].set_ylabel("discriminator's E/N")
    levels = np.unique(energy)
    means = [confidence[energy == e].mean() for e in levels]
    spread = [confidence[energy == e].std() for e in levels]
    axes[3].errorbar(levels, means, spread, marker="o", ms=3, lw=1, capsize=2)
    low, high = np.percentile(arrays["training"][:, 0], [0.5, 99.5])
    axes[3].axvspan(low, high, color="tab:green", alpha=0.15, label="training range")
    axes[3].set_xlabel("true E/N")
    axes[3].set_ylabel("confidence D(x)")
    axes[3].legend()
    fig.suptitle(title)
    return _save(fig, path)


def error_map(maps, samples, path, title="", inside=None):
    """The thesis's Fig. 6: median |E_gen/N - E_req/N| and |m_gen - m_req| over the requested
    (E/N, m) plane (`maps` from rugan_training.error_map; white where no configuration has the
    label), the training region outlined if `inside` (a boolean map) is given, and a mosaic of
    generated `samples` (n, L, L)."""
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.4), gridspec_kw={"wspace": 0.45})
    e, m = maps["energy"], maps["magnetization"]
    extent = [m[0], m[-1], e[0], e[-1]]
    for ax, name in zip(axes[:2], ("energy", "magnetization")):
        shown = ax.imshow(maps[f"{name}_error"], origin="lower", extent=extent, aspect="auto",
                          cmap="viridis", interpolation="nearest")
        fig.colorbar(shown, ax=ax, label=f"median |{name} error| per spin")
        if inside is not None:
            ax.contour(m, e, inside.astype(float), levels=[0.5], colors="w", linewidths=1.5)
        ax.set_xlabel("requested m")
        ax.set_ylabel("requested E/N")
    samples = np.asarray(samples)
    columns = int(np.ceil(np.sqrt(len(samples))))
    side = samples.shape[1] + 1
    mosaic = np.zeros((columns * side, columns * side))
    for k, lattice in enumerate(samples):
        r, c = divmod(k, columns)
        mosaic[r * side:r * side + side - 1, c * side:c * side + side - 1] = lattice
    axes[2].imshow(mosaic, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    axes[2].axis("off")
    axes[2].set_title("generated samples")
    fig.suptitle(title)
    return _save(fig, path)


def annealing_schedules(betas, acceptance, path, title="", examples=5):
    """Annealing schedules of many episodes: beta at the start and after each step
    (episodes, steps + 1; mean, standard deviation and a few examples) and the mean Metropolis
    acceptance of each step (episodes, steps)."""
    betas, acceptance = np.asarray(betas), np.asarray(acceptance)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, values, label in ((left, betas, "beta"), (right, acceptance, "acceptance ratio")):
        steps = np.arange(values.shape[1]) + (values.shape[1] == acceptance.shape[1])
        mean, std = values.mean(axis=0), values.std(axis=0)
        ax.fill_between(steps, mean - std, mean + std, alpha=0.25, label="mean +- std")
        ax.plot(steps, mean, lw=2)
        for row in values[:examples]:
            ax.plot(steps, row, lw=0.8, alpha=0.7)
        ax.set_xlabel("step")
        ax.set_ylabel(label)
    left.legend()
    fig.suptitle(title)
    return _save(fig, path)


def n99_by_size(curves, anchors, path, title="n99 against system size"):
    """n99 against L: {method: [(L, evaluation.Score)]} with 95 % intervals, and reference
    curves {name: {L: n99}} in gray (dashed, dotted). Symmetric-log axis: n99 = 0 (every episode succeeded) shows."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for name, points in curves.items():
        points = sorted(points, key=lambda item: item[0])
        sizes = [L * L for L, _ in points]
        values = np.array([score.n99 for _, score in points])
        low, high = np.array([score.n99_interval for _, score in points]).T
        ax.errorbar(sizes, values, yerr=[values - low, np.minimum(high, 1e6) - values],
                    marker="o", capsize=3, label=name)
    for (name, values), style in zip(anchors.items(), ("--", ":", "-.")):
        sizes = sorted(L for L in values if np.isfinite(values[L]))
        ax.plot([L * L for L in sizes], [values[L] for L in sizes], style, color="gray",
                alpha=0.8, marker="x", label=name)
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_xlabel("spins N = L^2")
    ax.set_ylabel("n99 (episodes for 99 % confidence)")
    ax.legend(fontsize=8)
    ax.set_title(title)
    return _save(fig, path)


def wsc_success(rows, schedules, path, title=""):
    """Thesis Fig. 3b-d: success probability against the start beta for every method
    ({beta: {label: Score}}), and the policy's schedules from the hottest and coldest starts
    ({beta: (betas (episodes, steps + 1), acceptance)})."""
    starts = sorted(rows)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for label in rows[starts[0]]:
        axes[0].plot(starts, [rows[b][label].p for b in starts], marker="o", label=label)
    axes[0].set_xlabel("start beta")
    axes[0].set_ylabel("success probability")
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=8)
    for ax, beta in zip(axes[1:], (starts[0], starts[-1])):
        betas = np.asarray(schedules[beta][0])
        mean, std = betas.mean(axis=0), betas.std(axis=0)
        steps = np.arange(betas.shape[1])
        ax.fill_between(steps, mean - std, mean + std, alpha=0.25)
        ax.plot(steps, mean, lw=2, label="mean +- std")
        ax.plot(steps, betas[0], lw=0.8, color="red", label="one episode")
        ax.set_xlabel("step")
        ax.set_ylabel("beta")
        ax.set_title(f"policy from beta {beta}")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def labelled_images(pictures, labels, all_labels, path, title="", name="eps0", unit="mHa",
                    extent=(-20, 20, -20, 20)):
    """Example images (2D potentials, atom images) with their labels, and the histogram of a
    dataset's labels (the Schrödinger thesis's Fig. 11 and the energy ranges of its Fig. 4)."""
    pictures = np.asarray(pictures)
    columns = min(len(pictures), 4)
    rows = -(-len(pictures) // columns)
    fig = plt.figure(figsize=(3 * columns + 4, 3 * rows))
    grid = fig.add_gridspec(rows, columns + 2)
    for k, (v, e) in enumerate(zip(pictures, labels)):
        ax = fig.add_subplot(grid[k // columns, k % columns])
        ax.imshow(v.T, origin="lower", extent=extent, cmap="viridis")
        ax.set_title(f"{name} = {e:.1f} {unit}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    hist = fig.add_subplot(grid[:, columns:])
    hist.hist(np.asarray(all_labels), bins=50)
    hist.set_xlabel(f"{name} ({unit})")
    hist.set_ylabel("examples")
    fig.suptitle(title)
    return _save(fig, path)


def tile_energies(picture, tiles, path, title="", unit="eV"):
    """An atom image with the EDNN's per-tile energies over it (colour and value per tile):
    where a sheet's energy sits (thesis: density maps of the extensive quantity)."""
    picture, tiles = np.asarray(picture), np.asarray(tiles)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    h, w = picture.shape
    ax.imshow(picture.T, origin="lower", cmap="gray", extent=(0, h, 0, w))
    shade = ax.imshow(tiles.T, origin="lower", cmap="coolwarm", alpha=0.45, extent=(0, h, 0, w))
    fig.colorbar(shade, ax=ax, label=f"tile energy ({unit})")
    step = h / tiles.shape[0], w / tiles.shape[1]
    if tiles.size <= 256:
        for (i, j), value in np.ndenumerate(tiles):
            ax.text((i + 0.5) * step[0], (j + 0.5) * step[1], f"{value:.1f}", ha="center",
                    va="center", fontsize=7)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return _save(fig, path)


def images(pictures, titles, path, title="", columns=4):
    """A grid of 8-bit images (greyscale or RGB) with a title each (counting collages)."""
    pictures = np.asarray(pictures)
    rows = -(-len(pictures) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, picture, name in zip(axes.ravel(), pictures, titles):
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=255)
        ax.set_title(name, fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def density_maps(picture, grid, classes, path, title=""):
    """An image and, per class, the EDNN's per-tile counts over it with the total (the
    counting paper's Fig. 3: red positive, blue negative contributions)."""
    picture, grid = np.asarray(picture), np.asarray(grid)
    fig, axes = plt.subplots(1, 1 + len(classes), figsize=(3.6 * (1 + len(classes)), 3.8),
                             squeeze=False)
    axes = axes[0]
    axes[0].imshow(picture, cmap="gray" if picture.ndim == 2 else None)
    axes[0].set_title(title, fontsize=9)
    h, w = picture.shape[:2]
    for ax, k, name in zip(axes[1:], range(len(classes)), classes):
        limit = max(np.abs(grid[..., k]).max(), 1e-6)
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, alpha=0.4)
        ax.imshow(grid[..., k], cmap="bwr", vmin=-limit, vmax=limit, alpha=0.7,
                  extent=(0, w, h, 0), interpolation="nearest")
        ax.set_title(f"{name}: {grid[..., k].sum():.2f}", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return _save(fig, path)


def curves(x, named, path, title="", xlabel="", ylabel=""):
    """Several named curves over one x axis (e.g. g(r) of two Monte Carlo runs)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, y in named.items():
        ax.plot(x, y, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def sheets(structures, path, title="", columns=4):
    """A grid of periodic sheets seen from above: atoms as dots coloured by element, bonds
    (pairs within 1.7 A, not across the cell edge) as lines, the cell outlined."""
    rows = -(-len(structures) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, atoms in zip(axes.ravel(), structures):
        xy = atoms.positions[:, :2]
        near = np.linalg.norm(xy[:, None] - xy[None], axis=-1) < 1.7
        for i, j in zip(*np.nonzero(np.triu(near, 1))):
            ax.plot(*xy[[i, j]].T, color="0.6", lw=0.6)
        ax.scatter(*xy.T, s=6, c=atoms.numbers, cmap="viridis", vmin=5, vmax=7, zorder=3)
        width, height = np.diag(np.asarray(atoms.cell))[:2]
        ax.plot([0, width, width, 0, 0], [0, 0, height, height, 0], color="k", lw=0.8)
        ax.set_aspect("equal")
        ax.set_title(f"{len(atoms)} atoms", fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def conditioning(results, path, title="", unit=""):
    """Requested against made energies, one column per lattice (the sheet RUGAN paper's
    Fig. 4): their density on the diagonal above, the two distributions below. `results`
    maps a column title to (made, requested)."""
    fig, axes = plt.subplots(2, len(results), figsize=(5 * len(results), 7.5), squeeze=False)
    for column, (name, (made, requested)) in enumerate(results.items()):
        made, requested = np.asarray(made), np.asarray(requested)
        ok = np.isfinite(made)
        top, bottom = axes[0, column], axes[1, column]
        lo = min(made[ok].min(), requested.min()) if ok.any() else requested.min()
        hi = max(made[ok].max(), requested.max()) if ok.any() else requested.max()
        top.hexbin(requested[ok], made[ok], gridsize=30, mincnt=1, cmap="viridis",
                   extent=(lo, hi, lo, hi))
        top.plot([lo, hi], [lo, hi], "w--", lw=0.8)
        top.set(title=name, xlabel=f"requested  [{unit}]", ylabel=f"made  [{unit}]")
        bins = np.linspace(lo, hi, 30)
        bottom.hist(requested, bins, alpha=0.6, label="requested")
        bottom.hist(made[ok], bins, alpha=0.6, label="made")
        bottom.set(xlabel=f"energy  [{unit}]", ylabel="sheets")
        bottom.legend()
    fig.suptitle(title)
    return _save(fig, path)


def interactions(curves, path, limit, title="Interaction of two point defects"):
    """Interaction energy per area against separation for each named (separations, energies),
    with the reach `limit` beyond which a local model gives zero."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for (name, (separation, energy)), marker in zip(curves.items(), itertools.cycle(MARKERS)):
        ax.plot(separation, energy, marker=marker, ms=4, lw=1, label=name)
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(limit, color="grey", ls="--", lw=1, label="local model's reach")
    ax.set_xlabel("separation (Angstrom)")
    ax.set_ylabel("interaction (meV / Angstrom^2)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)
