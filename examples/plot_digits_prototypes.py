"""
===================================
Prototypes of handwritten digits
===================================

A :class:`~sklearn_bernoulli_mix.BernoulliMixture` learned on binarised
images of handwritten digits, without their labels, as in section 9.3.3 of
Bishop's *Pattern Recognition and Machine Learning*. Each component's
``means_`` is an image: the probability that each pixel is inked in that
component. They come out as prototypes of the digits.
"""

# %%
# The data
# --------
# :func:`~sklearn.datasets.load_digits` has 1797 images of 8 x 8 pixels
# with grey levels from 0 to 16. ``binarize=7.5`` turns each pixel into
# inked (1) or blank (0) inside the estimator.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score

from sklearn_bernoulli_mix import BernoulliMixture

X, y = load_digits(return_X_y=True)

fig, axes = plt.subplots(2, 10, figsize=(10, 2.4), layout="constrained")
for ax, image, label in zip(axes.ravel(), X[:20], y[:20]):
    ax.imshow((image > 7.5).reshape(8, 8), cmap="gray_r")
    ax.set_title(str(label), fontsize=9)
    ax.axis("off")
fig.suptitle("Binarised digits (labels are not used for fitting)")
plt.show()

# %%
# Fitting ten components
# ----------------------
# Ten components for ten digits, with a few starts to avoid a poor local
# maximum of the likelihood.
mix = BernoulliMixture(n_components=10, binarize=7.5, n_init=3, random_state=0)
mix.fit(X)
print(f"converged: {mix.converged_} after {mix.n_iter_} iterations")
print(f"mean log-likelihood per image: {mix.score(X):.2f}")

# %%
# The learned prototypes
# ----------------------
# Each image is one row of ``means_``, reshaped to 8 x 8, ordered by
# weight. The title gives the component's weight and the digit most common
# among the images assigned to it (the labels are only used here, to name
# the components).
labels = mix.predict(X)
order = np.argsort(mix.weights_)[::-1]
fig, axes = plt.subplots(2, 5, figsize=(9, 4.4), layout="constrained")
for ax, k in zip(axes.ravel(), order):
    members = y[labels == k]
    common = np.bincount(members, minlength=10).argmax() if members.size else -1
    ax.imshow(mix.means_[k].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"weight {mix.weights_[k]:.2f}\nmostly {common}", fontsize=10)
    ax.axis("off")
fig.suptitle("means_ of a 10-component Bernoulli mixture")
plt.show()

# %%
# Some components gather several digits that look alike once binarised,
# and some digits get two components (two common ways of writing them), so
# the components are prototypes of shapes more than of digits. The
# adjusted Rand index compares the grouping with the true digits without
# needing to match components to digits (1 is perfect, 0 is chance):
print(f"adjusted Rand index: {adjusted_rand_score(y, labels):.2f}")

# %%
# Drawing new images
# ------------------
# The mixture is a generative model: :meth:`~sklearn_bernoulli_mix.BernoulliMixture.sample`
# draws a component, then every pixel independently. The samples are noisy,
# since the model knows nothing about neighbouring pixels beyond what the
# component says.
samples, components = mix.sample(20, random_state=0)
fig, axes = plt.subplots(2, 10, figsize=(10, 2.4), layout="constrained")
for ax, image, k in zip(axes.ravel(), samples, components):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(f"comp. {k}", fontsize=8)
    ax.axis("off")
fig.suptitle("Samples drawn from the fitted mixture")
plt.show()
