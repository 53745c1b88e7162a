"""
===================================
Choosing the number of components
===================================

How many groups are in the data? The training log-likelihood cannot say:
more components always fit at least as well. This example compares three
ways that can, on simulated data where the answer is known to be four:

- the Bayesian information criterion, :meth:`~sklearn_bernoulli_mix.BernoulliMixture.bic`;
- the Akaike information criterion, :meth:`~sklearn_bernoulli_mix.BernoulliMixture.aic`;
- the held-out log-likelihood, by cross-validation with
  :class:`~sklearn.model_selection.GridSearchCV`.
"""

# %%
# Data with four groups
# ---------------------
# 2000 samples of 12 binary features from a mixture of four Bernoulli
# components with weights 0.4, 0.3, 0.2 and 0.1.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV

from sklearn_bernoulli_mix import BernoulliMixture

rng = np.random.RandomState(0)
true_k = 4
true_weights = np.array([0.4, 0.3, 0.2, 0.1])
true_means = rng.beta(0.5, 0.5, size=(true_k, 12))
z = rng.choice(true_k, size=2000, p=true_weights)
X = (rng.random_sample(z.shape + (12,)) < true_means[z]).astype(float)

# %%
# Information criteria
# --------------------
# Both penalise the log-likelihood :math:`\ell` by the number of free
# parameters :math:`p = Kd + K - 1`: BIC by :math:`p \log n`, AIC by
# :math:`2p`. Lower is better. A few starts per fit (``n_init``) keep a bad
# local maximum from distorting the curves; k-means++ seeding makes each
# start cheap.
settings = {"n_init": 3, "init_params": "k-means++", "random_state": 0}
candidates = np.arange(1, 9)
bic, aic, train_score = [], [], []
for k in candidates:
    mix = BernoulliMixture(n_components=k, **settings).fit(X)
    bic.append(mix.bic(X))
    aic.append(mix.aic(X))
    train_score.append(mix.score(X))
print(f"BIC chooses {candidates[np.argmin(bic)]} components")
print(f"AIC chooses {candidates[np.argmin(aic)]} components")

# %%
# Held-out log-likelihood
# -----------------------
# ``score`` is the mean log-likelihood per sample, so
# :class:`~sklearn.model_selection.GridSearchCV` needs no scorer: it fits
# each candidate on four fifths of the data and scores it on the rest.
search = GridSearchCV(
    BernoulliMixture(**settings),
    {"n_components": candidates},
    cv=5,
)
search.fit(X)
cv_mean = search.cv_results_["mean_test_score"]
cv_std = search.cv_results_["std_test_score"]
print(f"cross-validation chooses {search.best_params_['n_components']} components")

# %%
# The curves
# ----------
# The training score (right, grey) keeps rising with every component; the
# held-out score and both criteria level off or turn back once the four real
# groups are found.
fig, (ax_ic, ax_cv) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
ax_ic.plot(candidates, bic, marker="o", label="BIC")
ax_ic.plot(candidates, aic, marker="s", label="AIC")
ax_ic.axvline(true_k, color="black", ls="--", lw=1, label="true number")
ax_ic.set(
    xlabel="number of components",
    ylabel="criterion (lower is better)",
    title="Information criteria",
)
ax_ic.legend()

ax_cv.errorbar(
    candidates,
    cv_mean,
    yerr=cv_std / np.sqrt(5),
    marker="o",
    capsize=3,
    label="held-out (mean ± s.e. over 5 folds)",
)
ax_cv.plot(candidates, train_score, marker=".", color="grey", label="training data")
ax_cv.axvline(true_k, color="black", ls="--", lw=1, label="true number")
ax_cv.set(
    xlabel="number of components",
    ylabel="mean log-likelihood per sample",
    title="Cross-validated log-likelihood",
)
ax_cv.legend()
plt.show()

# %%
# With this much data all three agree with the truth. In general BIC
# penalises extra components the most and AIC the least; the held-out
# likelihood answers the predictive question directly, at the price of
# fitting each candidate once per fold. When the held-out curve is flat
# near its maximum, prefer the smallest number of components within about
# one standard error of the best.
