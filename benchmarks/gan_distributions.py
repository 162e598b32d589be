"""The 2017 GAN (S9) against the thesis's claims: for each preset and seed, the 1-Wasserstein
distance between generated and training E/N (target <= 0.05 for the low and high sets), the
share of generated samples in the low-energy mode (bimodal set: 35-65 % in every seed; the
thesis saw mode collapse in most runs) and the ROC AUC with which the discriminator's
confidence separates uniform-energy test configurations inside the training range from those
outside (target >= 0.9), with the training time of each run; the distributions also for the
lattices that discriminator rejection sampling keeps (`gan_training.generate`, rejection_*)
and for lattices made with the generator's dropout on (dropout_*; off is the default, as the
thesis does at inference).

Run: .venv/bin/python benchmarks/gan_distributions.py --presets gan_low_quick,gan_high_quick \\
         --seeds 0 ; .venv/bin/python benchmarks/gan_distributions.py --presets gan_bimodal_quick \\
         --seeds 0,1,2,3,4
"""

import numpy as np
from absl import flags

import common

from tfphys import cli
from tfphys.training.adversarial import gan_training

flags.DEFINE_list("presets", ["gan_low_quick", "gan_high_quick", "gan_bimodal_quick"],
                  "GAN presets to train.")
flags.DEFINE_list("seeds", ["0"], "Training seeds (data, weights, noise).")
flags.DEFINE_integer("epochs", None, "Override every preset's epochs.")
flags.DEFINE_string("decay", None, "Override every preset's learning-rate decay.")
flags.DEFINE_float("feature_matching", None, "Override the label-matching weight.")
flags.DEFINE_integer("batch_size", None, "Override every preset's batch size.")
flags.DEFINE_float("exact_matching", None, "Override the exact-label matching weight.")
flags.DEFINE_float("outliers", None, "Override the outlier exposure (largest flipped fraction).")
flags.DEFINE_float("average", None, "Override the generator's weight average's momentum.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    common.header()
    for name in FLAGS.presets:
        preset = gan_training.preset_with(name, epochs=FLAGS.epochs, decay=FLAGS.decay,
                                            feature_matching=FLAGS.feature_matching,
                                            batch_size=FLAGS.batch_size,
                                            exact_matching=FLAGS.exact_matching,
                                            outliers=FLAGS.outliers, average=FLAGS.average)
        rows = []
        for seed in map(int, FLAGS.seeds):
            result = gan_training.train_gan(preset, seed=seed, verbose=0)
            row = {"seed": seed, "seconds": round(result["seconds"], 1),
                   "best_epoch": result["best_epoch"],
                   "selection": [round(v, 4) for v in result["selection"]],
                   **result["distributions"], **result["anomaly"],
                   **{f"rejection_{k}": v for k, v in result["rejection"].items()
                      if k != "training_low_mode_fraction"},
                   **{f"dropout_{k}": v for k, v in result["with_dropout"].items()
                      if k != "training_low_mode_fraction"}}
            cli.print_figures(f"{name} seed {seed}", row)
            rows.append(row)
        low = [r["low_mode_fraction"] for r in rows]
        cli.print_figures(f"{name} over {len(rows)} seeds", {
            "median_w1_energy": float(np.median([r["w1_energy"] for r in rows])),
            "max_w1_energy": max(r["w1_energy"] for r in rows),
            "median_rejection_w1_energy": float(np.median([r["rejection_w1_energy"]
                                                           for r in rows])),
            "max_rejection_w1_energy": max(r["rejection_w1_energy"] for r in rows),
            "median_dropout_w1_energy": float(np.median([r["dropout_w1_energy"] for r in rows])),
            "median_auc": float(np.median([r["auc"] for r in rows])),
            "min_auc": min(r["auc"] for r in rows),
            "low_mode_fraction_range": [min(low), max(low)],
            "mean_seconds": float(np.mean([r["seconds"] for r in rows]))})


if __name__ == "__main__":
    cli.run(main)
