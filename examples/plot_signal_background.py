"""
=====================================
A signal peak on a known background
=====================================

A counting experiment records one number per event, say an energy. Most
events are background, with an exponentially falling spectrum; a few are
signal, a narrow normal peak. Both shapes are known from theory or from
calibration; the question is the signal fraction, and how precisely the
data pin it down.

The components are frozen :mod:`scipy.stats` distributions, so
:class:`~sklearn_bernoulli_mix.FixedComponentMixture` only learns the two
weights. Repeating the experiment many times checks that the estimate is
unbiased and that its standard error, ``weights_stderr_``, describes the
spread of the estimates over repetitions.
"""

# %%
# One experiment
# --------------
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from sklearn_bernoulli_mix import FixedComponentMixture

signal = stats.norm(loc=4.0, scale=0.4)
background = stats.expon(scale=2.5)
true_fraction = 0.08
n_events = 600


def simulate(rng):
    """One experiment: each event is signal with probability true_fraction."""
    is_signal = rng.random_sample(n_events) < true_fraction
    energy = np.where(
        is_signal,
        signal.rvs(size=n_events, random_state=rng),
        background.rvs(size=n_events, random_state=rng),
    )
    return energy.reshape(-1, 1)


rng = np.random.RandomState(0)
X = simulate(rng)
mix = FixedComponentMixture(components=[signal, background]).fit(X)
fraction, stderr = mix.weights_[0], mix.weights_stderr_[0]
print(f"signal fraction {fraction:.3f} ± {stderr:.3f} (true {true_fraction})")

# %%
# The fitted density is the weighted sum of the two known shapes; only the
# weights were learned.
grid = np.linspace(0, 12, 400)
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
ax.hist(
    X[:, 0], bins=60, range=(0, 12), density=True, color="lightgrey", label="events"
)
ax.plot(grid, mix.weights_[1] * background.pdf(grid), label="fitted background")
ax.plot(grid, mix.weights_[0] * signal.pdf(grid), label="fitted signal")
ax.plot(
    grid,
    np.exp(mix.score_samples(grid.reshape(-1, 1))),
    color="black",
    label="fitted mixture",
)
ax.set(xlabel="energy", ylabel="density", title="One experiment")
ax.legend()
plt.show()

# %%
# Many experiments
# ----------------
# The same experiment, repeated 300 times with new events each time. For
# every repetition we keep the estimate and its standard error.
n_repeats = 300
estimates = np.empty(n_repeats)
stderrs = np.empty(n_repeats)
for i in range(n_repeats):
    fit = FixedComponentMixture(components=[signal, background]).fit(simulate(rng))
    estimates[i] = fit.weights_[0]
    stderrs[i] = fit.weights_stderr_[0]

covered = np.abs(estimates - true_fraction) <= 1.96 * stderrs
print(f"mean estimate {estimates.mean():.4f} (true {true_fraction})")
print(f"spread of the estimates {estimates.std():.4f}")
print(f"mean reported standard error {stderrs.mean():.4f}")
print(f"95% intervals that contain the truth: {covered.mean():.1%}")

# %%
# Left: the first 100 estimates with their 95% intervals; the ones that miss
# the true fraction are in red. Right: the estimates minus the truth, in
# units of their own standard error. If the standard errors are right, this
# follows a standard normal distribution.
shown = 100
fig, (ax_ci, ax_z) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
colours = np.where(covered[:shown], "C0", "C3")
ax_ci.errorbar(
    np.arange(shown),
    estimates[:shown],
    yerr=1.96 * stderrs[:shown],
    fmt="none",
    ecolor=colours,
)
ax_ci.scatter(np.arange(shown), estimates[:shown], c=colours, s=8, zorder=3)
ax_ci.axhline(true_fraction, color="black", ls="--", label="true fraction")
ax_ci.set(
    xlabel="repetition",
    ylabel="estimated signal fraction",
    title="Estimates and 95% intervals",
)
ax_ci.legend()

z = (estimates - true_fraction) / stderrs
ax_z.hist(z, bins=25, density=True, color="lightgrey", label="repetitions")
z_grid = np.linspace(-4, 4, 200)
ax_z.plot(z_grid, stats.norm.pdf(z_grid), color="black", label="standard normal")
ax_z.set(
    xlabel="(estimate - truth) / standard error",
    ylabel="density",
    title="Standardised errors",
)
ax_z.legend()
plt.show()

# %%
# The estimate is close to unbiased and the reported standard errors match
# the actual spread over repetitions, so the intervals cover the truth about
# 95% of the time. With a smaller signal, closer to zero, the normal
# approximation gets worse: the estimate cannot go below zero, and the
# intervals should then be read with care (see the user guide on standard
# errors).
