"""
=======================================
New class proportions for a classifier
=======================================

A classifier is trained where the classes are balanced, then used where
they are not: a test for a disease that is rarer in the clinic than in the
study, spam that is more frequent this month. When only the class
proportions change and each class still looks the same (*label shift*),
the classifier's posteriors are miscalibrated for the new place, and its
errors go up.

The new proportions can be learned from the unlabelled new data. By Bayes'
rule, :math:`p(x \\mid y) = p(y \\mid x)\\, p(x) / p_{\\text{train}}(y)`, and
:math:`p(x)` is the same for every class, so

.. math::

   \\log p(y = k \\mid x) - \\log p_{\\text{train}}(y = k)

is, up to a constant per sample, the log-likelihood of :math:`x` under
class :math:`k`. Those are known components: fitting
:class:`~sklearn_bernoulli_mix.FixedComponentMixture` with
``components="precomputed"`` to this matrix estimates the new class
proportions, and its ``predict_proba`` gives the posteriors adjusted to
them. This is the EM procedure of Saerens, Latinne and Decaestecker
(Neural Computation, 2002).
"""

# %%
# A balanced training set and a shifted test set
# ----------------------------------------------
# Three overlapping classes, each a normal distribution in two dimensions
# with the same covariance, so that a logistic regression is a well
# specified (and so well calibrated) model. The training set has the three
# classes in equal shares; the test set has 70%, 20% and 10%.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from sklearn_bernoulli_mix import FixedComponentMixture

class_means = np.array([[0.0, 0.0], [1.5, 0.5], [0.5, 1.5]])
rng = np.random.RandomState(0)
y_pool = np.repeat(np.arange(3), 10_000)
X_pool = class_means[y_pool] + rng.normal(size=(len(y_pool), 2))
by_class = [rng.permutation(np.flatnonzero(y_pool == k)) for k in range(3)]


def draw(counts, offset):
    """Take counts[k] samples of class k, starting at offset in each class."""
    index = np.concatenate(
        [by_class[k][offset : offset + n] for k, n in enumerate(counts)]
    )
    return X_pool[index], y_pool[index]


X_train, y_train = draw([1000, 1000, 1000], offset=0)
train_prior = np.bincount(y_train) / len(y_train)
classifier = LogisticRegression().fit(X_train, y_train)


def shifted_test_set(prior, n=2000, offset=3000):
    counts = np.round(np.asarray(prior) * n).astype(int)
    return draw(counts, offset)


test_prior = np.array([0.7, 0.2, 0.1])
X_test, y_test = shifted_test_set(test_prior)

# %%
# Estimating the new proportions
# ------------------------------
# The classifier's log-posteriors minus the log training proportions are the
# precomputed component log-likelihoods.


def log_likelihoods(X):
    return np.log(classifier.predict_proba(X)) - np.log(train_prior)


mix = FixedComponentMixture(components="precomputed").fit(log_likelihoods(X_test))
for k in range(3):
    print(
        f"class {k}: true {test_prior[k]:.2f}, estimated "
        f"{mix.weights_[k]:.3f} ± {mix.weights_stderr_[k]:.3f}"
    )

# %%
# The adjusted posteriors are the mixture's posteriors: each class's
# likelihood times its *new* proportion, normalised. Predicting with them
# instead of the classifier's own posteriors cuts the errors.
before = classifier.predict(X_test)
after = mix.predict(log_likelihoods(X_test))
print(f"accuracy with the training proportions: {np.mean(before == y_test):.3f}")
print(f"accuracy with the estimated proportions: {np.mean(after == y_test):.3f}")

# %%
# From mild to strong shifts
# --------------------------
# The same procedure on test sets whose first class makes up from 10% to 90%
# of the samples, the rest split evenly between the other two.
shares = np.linspace(0.1, 0.9, 9)
estimated, stderr, acc_before, acc_after = [], [], [], []
for share in shares:
    prior = np.array([share, (1 - share) / 2, (1 - share) / 2])
    X_s, y_s = shifted_test_set(prior)
    log_lik = log_likelihoods(X_s)
    fit = FixedComponentMixture(components="precomputed").fit(log_lik)
    estimated.append(fit.weights_[0])
    stderr.append(fit.weights_stderr_[0])
    acc_before.append(np.mean(classifier.predict(X_s) == y_s))
    acc_after.append(np.mean(fit.predict(log_lik) == y_s))

fig, (ax_prior, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
ax_prior.plot([0, 1], [0, 1], color="black", lw=1, ls="--", label="perfect")
ax_prior.errorbar(
    shares,
    estimated,
    yerr=1.96 * np.array(stderr),
    fmt="o",
    capsize=3,
    label="estimate ± 1.96 s.e.",
)
ax_prior.axhline(train_prior[0], color="grey", lw=1, ls=":", label="training share")
ax_prior.set(
    xlabel="true share of class 0 in the test set",
    ylabel="estimated share of class 0",
    title="New class proportions",
)
ax_prior.legend()

ax_acc.plot(shares, acc_before, marker="o", label="training proportions")
ax_acc.plot(shares, acc_after, marker="o", label="estimated proportions")
ax_acc.set(
    xlabel="true share of class 0 in the test set",
    ylabel="accuracy",
    title="Accuracy before and after adjusting",
)
ax_acc.legend()
plt.show()

# %%
# The estimates follow the true shares across the range, and adjusting the
# posteriors helps more the further the test set is from the training
# proportions; with no shift (a third each) there is nothing to gain. The
# procedure relies on the classifier's probabilities being calibrated on
# the training distribution; a badly calibrated classifier should be
# recalibrated first (for example with
# :class:`~sklearn.calibration.CalibratedClassifierCV`).
