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
:math:`p(x)` is the same for every class, so the classifier's posterior
divided by the training proportion is, up to a constant per sample, the
likelihood of :math:`x` under each class: the new data is a mixture of
known components whose weights are the new proportions.
:class:`~sklearn_bernoulli_mix.LabelShiftAdapter` estimates them by maximum
likelihood (the EM procedure of Saerens, Latinne and Decaestecker, Neural
Computation, 2002, solved by mix-SQP with a certified optimum), adjusts
the posteriors to them, and gives intervals for them.
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
from sklearn.naive_bayes import GaussianNB

from sklearn_bernoulli_mix import LabelShiftAdapter

class_means = np.array([[0.0, 0.0], [1.5, 0.5], [0.5, 1.5]])
rng = np.random.RandomState(0)


def draw(prior, n):
    """n samples whose classes are drawn with proportions ``prior``."""
    y = rng.choice(3, size=n, p=prior)
    return class_means[y] + rng.normal(size=(n, 2)), y


X_train, y_train = draw([1 / 3, 1 / 3, 1 / 3], 3000)
train_prior = np.bincount(y_train) / len(y_train)
classifier = LogisticRegression().fit(X_train, y_train)

test_prior = np.array([0.7, 0.2, 0.1])
X_test, y_test = draw(test_prior, 2000)

# %%
# Estimating the new proportions
# ------------------------------
# The adapter wraps the fitted classifier (it never refits it) and is fitted
# on the *unlabelled* test samples. The training proportions must be given:
# logistic regression does not record them.
adapter = LabelShiftAdapter(classifier, source_priors=train_prior).fit(X_test)
intervals = adapter.weights_interval(level=0.95)
for k in range(3):
    print(
        f"class {k}: true {test_prior[k]:.2f}, estimated {adapter.priors_[k]:.3f} "
        f"(95% profile interval {intervals[k, 0]:.3f} to {intervals[k, 1]:.3f})"
    )

# %%
# The adjusted posteriors are the classifier's, re-weighted by the new
# proportions over the old ones. Predicting with them instead of the
# classifier's own posteriors cuts the errors.
print(f"accuracy with the training proportions: {classifier.score(X_test, y_test):.3f}")
print(f"accuracy with the estimated proportions: {adapter.score(X_test, y_test):.3f}")

# %%
# From mild to strong shifts, down to an absent class
# ---------------------------------------------------
# The same procedure on test sets whose first class makes up from 0% to 90%
# of the samples, the rest split evenly between the other two. Near 0 the
# Wald interval (estimate ± 1.96 standard errors) reaches below zero; the
# profile-likelihood interval stays inside [0, 1].
shares = np.linspace(0.0, 0.9, 10)
estimated, profile, wald, acc_before, acc_after = [], [], [], [], []
for share in shares:
    prior = np.array([share, (1 - share) / 2, (1 - share) / 2])
    X_s, y_s = draw(prior, 1000)
    fit = LabelShiftAdapter(classifier, source_priors=train_prior).fit(X_s)
    estimated.append(fit.priors_[0])
    profile.append(fit.weights_interval()[0])
    wald.append(fit.weights_interval(method="wald")[0])
    acc_before.append(classifier.score(X_s, y_s))
    acc_after.append(fit.score(X_s, y_s))
estimated, profile, wald = map(np.array, (estimated, profile, wald))

fig, (ax_prior, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
ax_prior.plot([0, 1], [0, 1], color="black", lw=1, ls="--", label="perfect")
ax_prior.errorbar(
    shares - 0.008,
    estimated,
    yerr=[estimated - profile[:, 0], profile[:, 1] - estimated],
    fmt="o",
    capsize=3,
    label="estimate, profile interval",
)
ax_prior.errorbar(
    shares + 0.008,
    estimated,
    yerr=[estimated - wald[:, 0], wald[:, 1] - estimated],
    fmt="none",
    capsize=3,
    ecolor="tab:red",
    label="Wald interval",
)
ax_prior.axhline(0, color="grey", lw=0.8)
ax_prior.axhline(train_prior[0], color="grey", lw=1, ls=":", label="training share")
ax_prior.set(
    xlabel="true share of class 0 in the test set",
    ylabel="estimated share of class 0",
    title="New class proportions (95% intervals)",
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
# proportions; with no shift (a third each) there is nothing to gain.
#
# Over-confident classifiers need calibration
# -------------------------------------------
# The procedure relies on the classifier's probabilities being calibrated on
# the training distribution. Naive Bayes on five copies of each feature
# counts every piece of evidence five times, and its posteriors are far too
# sure. Bias-corrected temperature scaling (``calibration="bcts"``) fits one
# temperature and one bias per class on labelled validation data from the
# training distribution, passed to ``fit``; the training proportions are
# then taken from that validation data.


def copies(X):
    return np.tile(X, 5)


naive_bayes = GaussianNB().fit(copies(X_train), y_train)
X_val, y_val = draw([1 / 3, 1 / 3, 1 / 3], 2000)
raw = LabelShiftAdapter(naive_bayes).fit(copies(X_test))
calibrated = LabelShiftAdapter(naive_bayes, calibration="bcts").fit(
    copies(X_test), calibration_data=(copies(X_val), y_val)
)
print(f"true proportions:        {test_prior}")
print(f"uncalibrated naive Bayes: {raw.priors_.round(3)}")
print(f"with BCTS:                {calibrated.priors_.round(3)}")
print(f"fitted temperature:       {calibrated.calibration_temperature_:.2f}")

# %%
# Uncalibrated, the estimate stays close to the training proportions; with
# BCTS it recovers the test proportions, and the temperature found is the
# number of copies of each feature.
