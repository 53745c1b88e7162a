"""
==================================
The marble factories, step by step
==================================

Factory 1 makes 80% red marbles, Factory 2 makes 30%. A bag holds marbles
from both, in unknown shares. From the colours alone,
:class:`~sklearn_bernoulli_mix.FixedComponentMixture` learns
:math:`P(c = \\text{Factory 1})`, with a standard error, and the posterior
:math:`P(c \\mid x)` explains where each marble probably came from.

This example follows EM on its way to the answer, draws the log-likelihood
of the weight with the estimate and its 95% interval, and shows the
posterior of a red and of a blue marble.
"""

# %%
# A bag of marbles
# ----------------
# 60% of the bag comes from Factory 1. We draw 1000 marbles and keep only
# their colours: 1 for red, 0 for blue.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_bernoulli_mix import FixedComponentMixture

p_red = np.array([0.8, 0.3])  # P(red | factory)
true_share = 0.6  # P(c = Factory 1), unknown to the model

rng = np.random.RandomState(0)
factory = np.where(rng.random_sample(1000) < true_share, 0, 1)
X = (rng.random_sample(1000) < p_red[factory]).astype(float).reshape(-1, 1)
n_red = int(X.sum())
print(f"{n_red} red and {1000 - n_red} blue marbles")

# %%
# The components are the two factories' Bernoulli distributions, one row of
# success probabilities per factory. The default solver is mix-SQP
# (``solver="sqp"``), which needs a handful of iterations.
components = p_red.reshape(-1, 1)
mix = FixedComponentMixture(components=components).fit(X)
print(f"P(c = Factory 1) = {mix.weights_[0]:.3f} ± {mix.weights_stderr_[0]:.3f}")
print(f"mix-SQP converged: {mix.converged_} after {mix.n_iter_} iterations")

# %%
# EM's path
# ---------
# The textbook EM update (``solver="em"``) takes many more, smaller steps,
# which makes its path easy to follow: stopping EM after 1, 2, 3, ...
# iterations shows its path towards the
# maximum likelihood estimate, here from three different starting weights
# (``weights_init``). Every path ends at the same place, because the
# log-likelihood is concave in the weights. The right panel shows the
# certified bound on how far each iterate's mean log-likelihood can be from
# the maximum (``gap_bound_``); EM stops when it falls below ``tol``.
n_steps = 70
starts = [0.05, 0.5, 0.95]

fig, (ax_path, ax_gap) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for start in starts:
    path, gaps = [start], []
    for max_iter in range(1, n_steps + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            step = FixedComponentMixture(
                components=components,
                weights_init=[start, 1 - start],
                solver="em",
                max_iter=max_iter,
            ).fit(X)
        path.append(step.weights_[0])
        gaps.append(step.gap_bound_)
    ax_path.plot(range(n_steps + 1), path, marker=".", label=f"start at {start}")
    ax_gap.semilogy(range(1, n_steps + 1), gaps, marker=".")
ax_path.axhline(mix.weights_[0], color="black", lw=1, ls="--", label="estimate")
ax_path.set(xlabel="EM iteration", ylabel="P(c = Factory 1)", title="EM's path")
ax_path.legend()
ax_gap.axhline(mix.tol, color="black", lw=1, ls="--", label="tol")
ax_gap.set(
    xlabel="EM iteration",
    ylabel="certified gap bound (per marble)",
    title="Distance to the maximum, certified",
)
ax_gap.legend()
plt.show()

# %%
# The log-likelihood of the weight
# --------------------------------
# With one colour the log-likelihood of :math:`\pi = P(c = \text{Factory 1})`
# has a simple form: every red marble contributes
# :math:`\log(0.8\pi + 0.3(1 - \pi))`, every blue one
# :math:`\log(0.2\pi + 0.7(1 - \pi))`. Its maximum is the estimate. The
# shaded band is the 95% interval ``weights_ ± 1.96 * weights_stderr_``;
# the dotted lines mark where the log-likelihood is 1.92 below its maximum,
# the likelihood-ratio interval, which agrees closely here.
grid = np.linspace(0.4, 0.8, 401)
p_red_mix = p_red[0] * grid + p_red[1] * (1 - grid)
log_lik = n_red * np.log(p_red_mix) + (len(X) - n_red) * np.log(1 - p_red_mix)
log_lik -= log_lik.max()

estimate, stderr = mix.weights_[0], mix.weights_stderr_[0]
inside = grid[log_lik >= -1.92]

fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
ax.plot(grid, log_lik, color="C0")
ax.axvspan(
    estimate - 1.96 * stderr,
    estimate + 1.96 * stderr,
    color="C0",
    alpha=0.2,
    label="estimate ± 1.96 standard errors",
)
ax.axvline(estimate, color="C0", label=f"estimate {estimate:.3f}")
ax.axvline(true_share, color="black", ls="--", label=f"true share {true_share}")
for end in (inside.min(), inside.max()):
    ax.axvline(end, color="C1", ls=":")
ax.axhline(-1.92, color="C1", ls=":", label="likelihood-ratio interval")
ax.set(
    xlabel="P(c = Factory 1)",
    ylabel="log-likelihood minus its maximum",
    ylim=(-8, 0.5),
    title="Log-likelihood of the weight",
)
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
plt.show()

# %%
# Which factory made this marble?
# -------------------------------
# The posterior :math:`P(c \mid x)` combines the estimated shares (the
# prior) with the colour. A red marble points to Factory 1, a blue one to
# Factory 2, but neither is certain.
posterior = mix.predict_proba([[1], [0]])
for colour, row in zip(("red", "blue"), posterior):
    print(
        f"{colour:>4} marble: P(Factory 1) = {row[0]:.3f}, P(Factory 2) = {row[1]:.3f}"
    )

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
positions = np.arange(2)
width = 0.27
ax.bar(positions - width, mix.weights_, width, color="grey", label="prior P(c)")
ax.bar(positions, posterior[0], width, color="tab:red", label="P(c | red)")
ax.bar(positions + width, posterior[1], width, color="tab:blue", label="P(c | blue)")
ax.set_xticks(positions, ["Factory 1", "Factory 2"])
ax.set(ylabel="probability", ylim=(0, 1), title="Prior and posterior")
ax.legend()
plt.show()
