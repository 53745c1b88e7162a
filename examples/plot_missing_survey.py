"""
================================
Survey answers with missing data
================================

A survey asks yes/no questions, and not everyone answers every question.
:class:`~sklearn_bernoulli_mix.BernoulliMixture` takes the gaps as they
are: a NaN is a missing answer, left out of the likelihood of its row and
out of the update of that question's probabilities. Nothing is imputed.

This example hides a growing share of the answers of a simulated survey
with four groups of respondents, and measures how well the groups are
still recovered: the adjusted Rand index between the true and the predicted
groups, and the error of the learned answer probabilities. For comparison,
the same fit on the data with every missing answer read as "no", a common
shortcut.
"""

# %%
# A survey with four groups
# -------------------------
# 1000 respondents and 15 questions. Each group has its own probability of
# answering "yes" (1) to each question.
import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from sklearn_bernoulli_mix import BernoulliMixture

rng = np.random.RandomState(0)
n_groups, n_questions, n_people = 4, 15, 1000
true_weights = np.array([0.35, 0.3, 0.2, 0.15])
true_means = rng.beta(0.5, 0.5, size=(n_groups, n_questions))
group = rng.choice(n_groups, size=n_people, p=true_weights)
answers = (rng.random_sample((n_people, n_questions)) < true_means[group]).astype(float)

fig, ax = plt.subplots(figsize=(8, 2.8), layout="constrained")
image = ax.imshow(true_means, cmap="viridis", vmin=0, vmax=1, aspect="auto")
ax.set(
    xlabel="question",
    ylabel="group",
    yticks=range(n_groups),
    title="P(yes) per group and question",
)
fig.colorbar(image, ax=ax)
plt.show()

# %%
# Hiding answers
# --------------
# Answers go missing completely at random, from none to 60% of them. At 20%
# already, fewer than 4% of the respondents have answered every question, so
# dropping incomplete rows is not an option.
print(f"complete rows at 20% missing: {0.8**n_questions:.1%}")


def means_error(fitted_means):
    """Mean absolute error of the answer probabilities, groups matched first."""
    cost = np.abs(true_means[:, None, :] - fitted_means[None, :, :]).mean(axis=2)
    rows, cols = linear_sum_assignment(cost)
    return cost[rows, cols].mean()


missing_shares = np.arange(0.0, 0.65, 0.1)
results = {"missing at random (NaN)": ([], []), 'missing read as "no"': ([], [])}
for share in missing_shares:
    hidden = rng.random_sample(answers.shape) < share
    with_nan = np.where(hidden, np.nan, answers)
    as_no = np.where(hidden, 0.0, answers)
    for name, data in zip(results, (with_nan, as_no)):
        mix = BernoulliMixture(
            n_components=n_groups, n_init=3, init_params="k-means++", random_state=0
        )
        predicted = mix.fit_predict(data)
        results[name][0].append(adjusted_rand_score(group, predicted))
        results[name][1].append(means_error(mix.means_))

for name, (ari, error) in results.items():
    print(
        f"{name}: ARI {ari[0]:.2f} -> {ari[-1]:.2f}, error {error[0]:.3f} -> {error[-1]:.3f}"
    )

# %%
# The recovery as answers go missing
# ----------------------------------
# Left: agreement between predicted and true groups (1 is perfect; it is
# below 1 even with complete data, because some respondents' answers fit
# another group better). Right: the error of the learned probabilities of
# "yes".
fig, (ax_ari, ax_err) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for name, (ari, error) in results.items():
    ax_ari.plot(100 * missing_shares, ari, marker="o", label=name)
    ax_err.plot(100 * missing_shares, error, marker="o", label=name)
ax_ari.set(
    xlabel="missing answers (%)",
    ylabel="adjusted Rand index",
    ylim=(0, 1),
    title="Recovery of the groups",
)
ax_err.set(
    xlabel="missing answers (%)",
    ylabel="mean absolute error of P(yes)",
    ylim=(0, None),
    title="Error of the learned probabilities",
)
ax_ari.legend()
ax_err.legend()
plt.show()

# %%
# Treating the gaps as missing, the groups fade slowly: fewer answers per
# respondent make each one harder to place, but the probabilities stay
# unbiased, since every question's estimate uses all the answers it got.
# Reading a missing answer as "no" biases every probability towards zero,
# by the share of missing answers, and the error grows with it. The
# missing-at-random assumption matters: if people skip a question *because*
# of their answer, the gaps carry information that neither fit uses.
