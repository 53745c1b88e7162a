"""
=========================================================
A complete latent class analysis of a classic survey
=========================================================

Stouffer & Toby (1951) asked 216 respondents what they would do in four
situations where loyalty to a friend conflicts with a duty to society (a
friend's car accident, an insurance examination of a friend, a review of a
friend's play, a board's secret that would help a friend). Each answer is
*universalistic* (1: the duty) or *particularistic* (0: the friend). Goodman
(1974) analysed the table with latent classes, and it has been the first
example of latent class analysis ever since.

This example runs the analysis a paper would report: choose the number of
classes (information criteria, the bootstrap likelihood ratio test,
entropy), estimate the class sizes and profiles with standard errors,
check local independence, and print the report.

The counts of the 16 response patterns are those of Table 1 of L. A.
Goodman (1974), "Exploratory latent structure analysis using both
identifiable and unidentifiable models", *Biometrika* 61(2), 215-231,
from S. A. Stouffer & J. Toby (1951), "Role conflict and personality",
*American Journal of Sociology* 56(5), 395-406.
"""

# %%
# The data
# --------
# Each of the 16 patterns of four 0/1 answers, with the number of
# respondents who gave it; the situations are Goodman's A to D. Frequency weights would do as well; the rows are
# repeated here because the bootstrap test below draws unweighted samples.
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    bivariate_residuals,
    bootstrap_lrt,
    plot_criteria,
    select_n_components,
    standard_errors,
    summary,
)

items = ["situation A", "situation B", "situation C", "situation D"]
patterns = np.array(list(itertools.product([1, 0], repeat=4)), dtype=float)
counts = np.array([42, 23, 6, 25, 6, 24, 7, 38, 1, 4, 1, 6, 2, 9, 2, 20])
X = pd.DataFrame(np.repeat(patterns, counts, axis=0), columns=items)
print(f"{len(X)} respondents; share of universalistic answers per item:")
print(X.mean().round(3).to_string())

# %%
# How many classes?
# -----------------
# One to three classes (four items cannot identify more), each fitted from
# ten starts. The bootstrap likelihood ratio test compares K - 1 with K
# classes on data simulated from the K - 1 class fit; ``n_jobs=-1`` would run
# its refits on every core.
est = BernoulliMixture(
    alpha=0, init_params="random_from_data", n_init=10, tol=1e-6, max_iter=2000
)
table = select_n_components(
    est, X, range(1, 4), blrt=True, n_bootstrap=99, n_init=5, random_state=0
)
print(table.round(3).to_string())

# %%
# Every criterion is lowest at two classes, and the test rejects one class
# (p = 0.01, the smallest possible with 99 bootstrap samples) but not two
# against three.
fig, ax = plt.subplots(figsize=(6, 4))
plot_criteria(table, ax=ax)
ax.set_title("Information criteria (lower is better)")
fig.tight_layout()

# %%
# The two-class model
# -------------------
# Goodman's solution: a class of 28% who answer universalistically almost
# always, and one of 72% who do so mostly in the first situation. The
# likelihood-ratio statistic against the saturated model is Goodman's
# L^2 = 2.72 on 6 degrees of freedom.
mix = BernoulliMixture(
    2, alpha=0, n_init=10, tol=1e-10, max_iter=10000, random_state=0
).fit(X)
observed = counts[counts > 0]
saturated = np.sum(observed * np.log(observed / counts.sum()))
log_lik = mix.score_samples(X).sum()
print(f"L^2 = {2 * (saturated - log_lik):.2f} on {16 - 1 - mix._n_parameters()} df")
print("class sizes:", mix.weights_.round(3))

# %%
# Standard errors
# ---------------
# From the exact observed information (``method="hessian"``); poLCA reports
# the outer product of scores (``"opg"``) and Mplus the sandwich (MLR). The
# three agree closely here, as they should when the model fits.
se = {m: standard_errors(mix, X, method=m) for m in ("hessian", "opg", "sandwich")}
for method, res in se.items():
    print(
        f"{method:>8}: weights {res.weights_stderr.round(3)}, "
        f"means {res.means_stderr.round(3).tolist()}"
    )

# %%
# The class profiles with their 95% Wald intervals ``p +- 1.96 s.e.``, cut
# at 0 and 1. Near the boundary (0.99 in situation A) the normal
# approximation is rough on any scale: the interval of the logit, mapped
# back, would reach down to 0.09 there, as the likelihood is flat towards
# 1; such a probability is best read as "almost always".
fig, ax = plt.subplots(figsize=(7, 4))
x = np.arange(len(items))
for k, offset in zip(range(2), (-0.05, 0.05)):
    p = mix.means_[k]
    half = 1.96 * se["hessian"].means_stderr[k]
    lower, upper = np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)
    ax.errorbar(
        x + offset,
        p,
        yerr=[p - lower, upper - p],
        marker="o",
        capsize=4,
        label=f"class {k} ({mix.weights_[k]:.0%})",
    )
ax.set_xticks(x, items)
ax.set_ylim(0, 1.02)
ax.set_ylabel("P(universalistic answer | class)")
ax.set_title("Class profiles, 95% Wald intervals")
ax.legend()
fig.tight_layout()

# %%
# Local independence
# ------------------
# Within a class the items should be independent. The bivariate residuals
# compare, for each pair of items, the observed table of answers with the
# expected one; all are far below 3.84, so two classes explain the
# association between the answers.
bvr = pd.DataFrame(bivariate_residuals(mix, X), index=items, columns=items)
print(bvr.round(2).to_string())

# %%
# And a third class? The test of two against three classes on its own, with
# the Monte Carlo error of its p-value:
res = bootstrap_lrt(est, X, n_components=3, n_bootstrap=99, n_init=5, random_state=1)
print(
    f"LR = {res.statistic:.2f}, p = {res.p_value:.2f} (MC s.e. {res.p_value_stderr:.2f})"
)

# %%
# The report
# ----------
print(summary(mix, X))

plt.show()
