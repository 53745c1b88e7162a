"""Choosing the number of classes of a latent class model, and reporting it.

Information criteria and classification diagnostics as methods of the
learned mixtures (:class:`LatentClassCriteriaMixin`), the bootstrap
likelihood ratio test, an enumeration table over numbers of classes,
bivariate residuals for local dependence, and a summary report. Everything
here uses only the public predictions of a fitted mixture (``score_samples``,
``predict_proba``, ``sample``) and its parameters (``weights_`` with
``means_`` or ``category_probs_``), so it serves every learned family.
"""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from ._inference import standard_errors
from ._validation import check_sample_weight


class LatentClassCriteriaMixin:
    """Fit criteria of latent class analysis for the learned mixtures.

    Adds :meth:`aic`, :meth:`bic`, :meth:`sabic`, :meth:`caic`,
    :meth:`entropy` and :meth:`average_posterior` to an estimator that has
    ``score_samples``, ``predict_proba`` and ``_n_parameters()``. Every
    method takes frequency weights; with them, the number of samples
    ``n`` of the criteria is the total weight.
    """

    def _weighted_log_likelihood(self, X, sample_weight):
        """``(n, log-likelihood)`` of X; n is the total sample weight."""
        if sample_weight is None and hasattr(self, "_total_log_likelihood"):
            n, log_lik = self._total_log_likelihood(X)
            return float(n), float(log_lik)
        log_prob = np.asarray(self.score_samples(X), dtype=np.float64)
        sw = check_sample_weight(sample_weight, log_prob.shape[0])
        return float(sw.sum()), float(sw @ log_prob)

    def _criterion(self, X, sample_weight, penalty):
        n, log_lik = self._weighted_log_likelihood(X, sample_weight)
        return float(-2 * log_lik + self._n_parameters() * penalty(n))

    def aic(self, X, sample_weight=None):
        """Akaike information criterion of the fitted model on `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the samples.

        Returns
        -------
        aic : float
            ``-2 * log-likelihood + 2 * n_parameters``; lower is better.
        """
        return self._criterion(X, sample_weight, lambda n: 2.0)

    def bic(self, X, sample_weight=None):
        """Bayesian information criterion of the fitted model on `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the samples; ``n`` is then their total.

        Returns
        -------
        bic : float
            ``-2 * log-likelihood + n_parameters * log(n)``; lower is
            better.
        """
        return self._criterion(X, sample_weight, np.log)

    def sabic(self, X, sample_weight=None):
        """Sample-size adjusted BIC of the fitted model on `X`.

        Sclove's (1987) adjustment, which Mplus prints as "Sample-Size
        Adjusted BIC": ``n`` of the BIC penalty becomes ``(n + 2) / 24``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the samples; ``n`` is then their total.

        Returns
        -------
        sabic : float
            ``-2 * log-likelihood + n_parameters * log((n + 2) / 24)``;
            lower is better.
        """
        return self._criterion(X, sample_weight, lambda n: np.log((n + 2) / 24))

    def caic(self, X, sample_weight=None):
        """Consistent AIC of the fitted model on `X` (Bozdogan, 1987).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the samples; ``n`` is then their total.

        Returns
        -------
        caic : float
            ``-2 * log-likelihood + n_parameters * (log(n) + 1)``; lower is
            better.
        """
        return self._criterion(X, sample_weight, lambda n: np.log(n) + 1)

    def _posterior_and_weight(self, X, sample_weight):
        resp = np.asarray(self.predict_proba(X), dtype=np.float64)
        return resp, check_sample_weight(sample_weight, resp.shape[0])

    def entropy(self, X, sample_weight=None):
        """Relative entropy of the classification of `X` (the Mplus Entropy).

        ``1 - sum_i sum_k -r_ik log r_ik / (n log K)`` with ``r_ik`` the
        posterior probabilities (Ramaswamy et al., 1993): 1 when every
        sample is assigned with certainty, 0 when every posterior equals
        ``1 / K``. Values above about 0.8 are usually read as a clear
        separation of the classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the samples; ``n`` is then their total.

        Returns
        -------
        entropy : float
            Between 0 and 1; NaN for a one-class model, which classifies
            nothing.
        """
        resp, sw = self._posterior_and_weight(X, sample_weight)
        n_components = resp.shape[1]
        if n_components == 1:
            return float("nan")
        with np.errstate(divide="ignore", invalid="ignore"):
            plogp = np.where(resp > 0, resp * np.log(resp), 0.0)
        total = -float(sw @ plogp.sum(axis=1))
        return float(1 - total / (sw.sum() * np.log(n_components)))

    def average_posterior(self, X, sample_weight=None):
        """Average posterior probability of the samples assigned to each class.

        Each sample is assigned to its most probable class; entry ``k`` is
        the mean of ``P(class = k | x)`` over the samples assigned to class
        ``k`` (the diagonal of Mplus' "average latent class probabilities for
        most likely latent class membership"). Values above about 0.7 are
        usually read as a well-separated class (Nagin, 2005).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the samples.

        Returns
        -------
        average_posterior : ndarray of shape (n_components,)
            NaN for a class to which no sample is assigned.
        """
        resp, sw = self._posterior_and_weight(X, sample_weight)
        labels = resp.argmax(axis=1)
        n_components = resp.shape[1]
        mass = np.bincount(labels, weights=sw, minlength=n_components)
        hit = np.bincount(
            labels,
            weights=sw * resp[np.arange(resp.shape[0]), labels],
            minlength=n_components,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(mass > 0, hit / np.where(mass > 0, mass, 1), np.nan)


# ---------------------------------------------------------------------------
# Bootstrap likelihood ratio test


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}.")
    return int(value)


def _fit_k(estimator, X, n_components, n_init, random_state, sample_weight=None):
    est = clone(estimator).set_params(
        n_components=n_components, random_state=random_state
    )
    if n_init is not None:
        est.set_params(n_init=n_init)
    if "warm_start" in est.get_params():
        est.set_params(warm_start=False)
    return est.fit(X, sample_weight=sample_weight)


def _total_log_lik(estimator, X, sample_weight=None):
    log_prob = np.asarray(estimator.score_samples(X), dtype=np.float64)
    if sample_weight is None:
        return float(log_prob.sum())
    return float(check_sample_weight(sample_weight, log_prob.shape[0]) @ log_prob)


def _bootstrap_replicate(null_fit, estimator, n_samples, k, n_init, seed):
    """LR statistic of K vs K - 1 classes on one sample from the null fit.

    Returns ``(statistic, number of the two refits that did not converge)``;
    their convergence warnings are counted, not shown.
    """
    rng = np.random.RandomState(seed)
    Xb, _ = null_fit.sample(n_samples, random_state=rng)
    seeds = rng.randint(np.iinfo(np.int32).max, size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        null_b = _fit_k(estimator, Xb, k - 1, n_init, int(seeds[0]))
        alt_b = _fit_k(estimator, Xb, k, n_init, int(seeds[1]))
    unconverged = sum(not getattr(f, "converged_", True) for f in (null_b, alt_b))
    statistic = 2 * (_total_log_lik(alt_b, Xb) - _total_log_lik(null_b, Xb))
    return statistic, unconverged


def _blrt_from_fits(
    null_fit, alt_fit, estimator, X, k, n_bootstrap, n_init, n_jobs, random_state
):
    from joblib import Parallel, delayed

    n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
    statistic = 2 * (_total_log_lik(alt_fit, X) - _total_log_lik(null_fit, X))
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=n_bootstrap)
    replicates = Parallel(n_jobs=n_jobs)(
        delayed(_bootstrap_replicate)(null_fit, estimator, n_samples, k, n_init, int(s))
        for s in seeds
    )
    null_distribution = np.array([r[0] for r in replicates])
    n_unconverged = int(sum(r[1] for r in replicates))
    # A replicate's K-class fit can end in a worse local maximum than its
    # (K - 1)-class fit; the likelihood ratio of nested models is >= 0.
    null_distribution = np.maximum(null_distribution, 0.0)
    exceed = int(np.sum(null_distribution >= statistic))
    p_value = (1 + exceed) / (n_bootstrap + 1)
    return Bunch(
        statistic=float(statistic),
        p_value=float(p_value),
        p_value_stderr=float(np.sqrt(p_value * (1 - p_value) / n_bootstrap)),
        null_distribution=null_distribution,
        n_components=k,
        n_bootstrap=n_bootstrap,
        n_unconverged=n_unconverged,
        log_likelihood_null=_total_log_lik(null_fit, X),
        log_likelihood_alternative=_total_log_lik(alt_fit, X),
    )


def bootstrap_lrt(
    estimator,
    X,
    *,
    n_components=None,
    n_bootstrap=99,
    n_init=5,
    n_jobs=None,
    random_state=None,
):
    """Bootstrap likelihood ratio test of K - 1 against K classes.

    The parametric bootstrap of McLachlan (1987), as recommended for latent
    class models by Nylund, Asparouhov & Muthén (2007) and printed by Mplus
    as TECH14. The likelihood ratio ``2 (log L_K - log L_{K-1})`` of the two
    fits on `X` is compared with its distribution under the (K - 1)-class
    model: `n_bootstrap` data sets of the size of `X` are drawn from the
    (K - 1)-class fit with its ``sample`` method, and both models are
    refitted on each with `n_init` starts.

    Parameters
    ----------
    estimator : estimator instance
        An unfitted (or fitted) mixture with ``n_components``, ``n_init``
        and ``random_state`` parameters, such as
        :class:`BernoulliMixture`; it is cloned, never modified.

    X : array-like of shape (n_samples, n_features)
        The data.

    n_components : int, default=None
        K, the number of classes of the alternative; the null has K - 1.
        None takes ``estimator.n_components``. Must be >= 2.

    n_bootstrap : int, default=99
        Number of bootstrap samples. The smallest p-value possible is
        ``1 / (n_bootstrap + 1)``.

    n_init : int, default=5
        Starts of every fit, on `X` and on each bootstrap sample. Too few
        make the K-class refits miss their maximum and bias the p-value
        upwards.

    n_jobs : int, default=None
        Number of joblib workers running the bootstrap refits; None means
        1, -1 all processors.

    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap samples and of the refits' starts.

    Returns
    -------
    result : Bunch
        ``statistic`` (the likelihood ratio on `X`), ``p_value``
        (``(1 + #{replicates >= statistic}) / (n_bootstrap + 1)``),
        ``p_value_stderr`` (its Monte Carlo standard error
        ``sqrt(p (1 - p) / n_bootstrap)``), ``null_distribution`` (the
        replicates' ratios, clipped at 0), ``n_unconverged`` (how many of
        the ``2 n_bootstrap`` refits stopped at ``max_iter``; their warnings
        are not shown), ``log_likelihood_null``,
        ``log_likelihood_alternative``, ``n_components`` and
        ``n_bootstrap``.

    See Also
    --------
    select_n_components : The table over several numbers of classes.

    Notes
    -----
    The bootstrap samples have no missing values, even when `X` has some;
    the test then compares the models as if the items were all observed.
    Sample weights are not supported: expand integer weights into
    repeated rows first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bernoulli_mix import BernoulliMixture, bootstrap_lrt
    >>> rng = np.random.RandomState(0)
    >>> z = rng.randint(2, size=300)
    >>> X = (rng.random_sample((300, 5)) < np.where(z[:, None], 0.8, 0.2))
    >>> res = bootstrap_lrt(BernoulliMixture(), X.astype(float), n_components=2,
    ...                     n_bootstrap=19, n_init=2, random_state=0)
    >>> res.p_value
    0.05
    """
    k = (
        getattr(estimator, "n_components", None)
        if n_components is None
        else n_components
    )
    k = _check_int(k, "n_components", 2)
    n_bootstrap = _check_int(n_bootstrap, "n_bootstrap", 1)
    n_init = _check_int(n_init, "n_init", 1)
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=3)
    null_fit = _fit_k(estimator, X, k - 1, n_init, int(seeds[0]))
    alt_fit = _fit_k(estimator, X, k, n_init, int(seeds[1]))
    return _blrt_from_fits(
        null_fit,
        alt_fit,
        estimator,
        X,
        k,
        n_bootstrap,
        n_init,
        n_jobs,
        int(seeds[2]),
    )


# ---------------------------------------------------------------------------
# The enumeration table


def _smallest_class(fit):
    return float(np.min(fit.weights_))


def select_n_components(
    estimator,
    X,
    n_components_range,
    *,
    sample_weight=None,
    blrt=False,
    n_bootstrap=99,
    n_init=None,
    n_jobs=None,
    random_state=None,
    return_estimators=False,
):
    """Fit 1..K classes and tabulate what a latent class paper reports.

    Parameters
    ----------
    estimator : estimator instance
        The mixture to enumerate, e.g. ``BernoulliMixture(n_init=10)``; it
        is cloned with each number of classes, never modified.

    X : array-like of shape (n_samples, n_features)
        The data.

    n_components_range : iterable of int
        The numbers of classes to fit, e.g. ``range(1, 7)``.

    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights; the criteria's ``n`` is their total. Not used by
        the bootstrap test, which then does not run.

    blrt : bool, default=False
        Also run :func:`bootstrap_lrt` of K - 1 against K classes for every
        K whose K - 1 is in the range (the slow part).

    n_bootstrap : int, default=99
        Bootstrap samples per test when `blrt` is True.

    n_init : int, default=None
        Starts of every fit; None keeps the estimator's ``n_init``.

    n_jobs : int, default=None
        Number of joblib workers of the bootstrap refits.

    random_state : int, RandomState instance or None, default=None
        Seed of the fits and of the bootstrap.

    return_estimators : bool, default=False
        Also return the fitted estimators, a dict keyed by the number of
        classes.

    Returns
    -------
    table : pandas.DataFrame or dict of ndarray
        One row per number of classes (the index, ``n_components``), with
        columns ``log_likelihood``, ``n_parameters``, ``aic``, ``bic``,
        ``sabic``, ``caic``, ``entropy``, ``blrt_p_value`` (NaN where not
        run) and ``smallest_class`` (the smallest of ``weights_``). A dict
        with the same keys (and ``n_components``) when pandas is not
        installed.

    estimators : dict
        Only with ``return_estimators=True``.

    See Also
    --------
    plot_criteria : Plot the criteria of the table.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bernoulli_mix import BernoulliMixture, select_n_components
    >>> rng = np.random.RandomState(0)
    >>> z = rng.randint(2, size=300)
    >>> X = (rng.random_sample((300, 5)) < np.where(z[:, None], 0.8, 0.2))
    >>> table = select_n_components(BernoulliMixture(n_init=3), X.astype(float),
    ...                             range(1, 4), random_state=0)
    >>> int(table["bic"].idxmin())
    2
    """
    ks = [_check_int(k, "n_components_range values", 1) for k in n_components_range]
    if not ks:
        raise ValueError("n_components_range is empty; give the numbers of classes.")
    if len(set(ks)) != len(ks):
        raise ValueError(f"n_components_range has repeated values: {ks}.")
    ks = sorted(ks)
    if blrt and sample_weight is not None:
        raise ValueError(
            "blrt=True does not support sample_weight: the bootstrap draws "
            "unweighted samples. Expand integer weights into repeated rows."
        )
    rng = check_random_state(random_state)
    fits = {}
    for k in ks:
        fits[k] = _fit_k(
            estimator,
            X,
            k,
            n_init,
            int(rng.randint(np.iinfo(np.int32).max)),
            sample_weight,
        )
    columns = {
        name: np.full(len(ks), np.nan)
        for name in (
            "log_likelihood",
            "n_parameters",
            "aic",
            "bic",
            "sabic",
            "caic",
            "entropy",
            "blrt_p_value",
            "smallest_class",
        )
    }
    boot_init = n_init if n_init is not None else getattr(estimator, "n_init", 5)
    for i, k in enumerate(ks):
        fit = fits[k]
        n, log_lik = LatentClassCriteriaMixin._weighted_log_likelihood(
            _AsCriteria(fit), X, sample_weight
        )
        p = fit._n_parameters()
        columns["log_likelihood"][i] = log_lik
        columns["n_parameters"][i] = p
        columns["aic"][i] = -2 * log_lik + 2 * p
        columns["bic"][i] = -2 * log_lik + p * np.log(n)
        columns["sabic"][i] = -2 * log_lik + p * np.log((n + 2) / 24)
        columns["caic"][i] = -2 * log_lik + p * (np.log(n) + 1)
        columns["entropy"][i] = LatentClassCriteriaMixin.entropy(
            _AsCriteria(fit), X, sample_weight
        )
        columns["smallest_class"][i] = _smallest_class(fit)
        if blrt and k >= 2 and (k - 1) in fits:
            res = _blrt_from_fits(
                fits[k - 1],
                fit,
                estimator,
                X,
                k,
                n_bootstrap,
                boot_init,
                n_jobs,
                int(rng.randint(np.iinfo(np.int32).max)),
            )
            columns["blrt_p_value"][i] = res.p_value
    columns["n_parameters"] = columns["n_parameters"].astype(np.intp)
    table = _to_frame(columns, ks)
    if return_estimators:
        return table, fits
    return table


class _AsCriteria(LatentClassCriteriaMixin):
    """Criteria of any fitted mixture, mixin or not."""

    def __init__(self, fit):
        self._fit = fit

    def score_samples(self, X):
        return self._fit.score_samples(X)

    def predict_proba(self, X):
        return self._fit.predict_proba(X)

    def _n_parameters(self):
        return self._fit._n_parameters()


def _import_pandas():
    import pandas

    return pandas


def _to_frame(columns, ks):
    try:
        pd = _import_pandas()
    except ImportError:
        out = {"n_components": np.asarray(ks)}
        out.update(columns)
        return out
    index = pd.Index(ks, name="n_components")
    return pd.DataFrame(columns, index=index)


def plot_criteria(table, *, criteria=("aic", "bic", "sabic", "caic"), ax=None):
    """Plot information criteria against the number of classes.

    Each criterion's curve marks its minimum. Needs matplotlib.

    Parameters
    ----------
    table : pandas.DataFrame or dict
        The output of :func:`select_n_components`.

    criteria : sequence of str, default=("aic", "bic", "sabic", "caic")
        The columns to plot.

    ax : matplotlib Axes, default=None
        Where to plot; None makes a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes plotted on.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    if isinstance(table, dict):
        ks = np.asarray(table["n_components"])
        get = table.__getitem__
    else:
        ks = np.asarray(table.index)
        get = table.__getitem__
    for name in criteria:
        values = np.asarray(get(name), dtype=float)
        (line,) = ax.plot(ks, values, marker="o", label=name.upper())
        best = int(np.nanargmin(values))
        ax.plot(
            ks[best],
            values[best],
            marker="*",
            markersize=14,
            color=line.get_color(),
        )
    ax.set_xlabel("number of classes")
    ax.set_ylabel("criterion (lower is better)")
    ax.set_xticks(ks)
    ax.legend()
    return ax


# ---------------------------------------------------------------------------
# Local dependence


def _item_probabilities(estimator):
    """``(weights, list of (K, C_j) arrays)`` of a Bernoulli or categorical fit."""
    if hasattr(estimator, "fit"):
        check_is_fitted(estimator)
    if hasattr(estimator, "category_probs_"):
        return np.asarray(estimator.weights_), [
            np.asarray(p) for p in estimator.category_probs_
        ]
    if hasattr(estimator, "means_"):
        means = np.asarray(estimator.means_)
        return np.asarray(estimator.weights_), [
            np.column_stack([1 - m, m]) for m in means.T
        ]
    raise TypeError(
        f"{type(estimator).__name__} has neither means_ nor category_probs_: "
        "pass a fitted BernoulliMixture or CategoricalMixture."
    )


def _validated_codes(estimator, X):
    check = getattr(estimator, "_check_predict_input", None)
    X = check(X) if check is not None else X
    return X


def bivariate_residuals(estimator, X, sample_weight=None):
    """Bivariate residuals of every pair of items, for local dependence.

    For items ``j`` and ``l``, the rows that observe both give the
    observed table ``O_ab`` of the pairs of categories; the fitted model
    gives the expected table ``E_ab = n_jl sum_k w_k p_kja p_klb``. The
    bivariate residual (Vermunt & Magidson's BVR, as in Latent GOLD) is
    Pearson's statistic ``sum_ab (O_ab - E_ab)^2 / E_ab`` divided by its
    degrees of freedom ``(C_j - 1)(C_l - 1)`` (1 for 0/1 items). Under
    local independence it is about 1 or less (the fit adapts the
    parameters to the data); values well above 3.84, the 95% quantile of
    a chi-square with one degree of freedom, point to items that stay
    dependent within the classes.

    Parameters
    ----------
    estimator : fitted BernoulliMixture or CategoricalMixture
        The model; its ``means_`` or ``category_probs_`` give the expected
        tables.

    X : array-like of shape (n_samples, n_items)
        The data (0/1 items or category codes; NaN missing).

    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights of the rows.

    Returns
    -------
    bvr : ndarray of shape (n_items, n_items)
        Symmetric, NaN on the diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bernoulli_mix import BernoulliMixture, bivariate_residuals
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.random_sample((500, 3)) < 0.5).astype(float)
    >>> X[:, 2] = X[:, 1]  # items 1 and 2 always agree
    >>> bvr = bivariate_residuals(BernoulliMixture().fit(X), X)
    >>> bool(bvr[1, 2] > 100), bool(bvr[0, 1] < 3.84)
    (True, True)
    """
    weights, probs = _item_probabilities(estimator)
    X = _validated_codes(estimator, X)
    n_items = len(probs)
    if X.shape[1] != n_items:
        raise ValueError(
            f"X has {X.shape[1]} columns but the model has {n_items} items."
        )
    sw = check_sample_weight(sample_weight, X.shape[0])
    n_cat = np.array([p.shape[1] for p in probs])
    starts = np.concatenate([[0], np.cumsum(n_cat)[:-1]])
    n_cols = int(n_cat.sum())
    pair_counts = np.zeros((n_cols, n_cols))
    both_seen = np.zeros((n_items, n_items))
    step = max(64, (1 << 18) // max(n_cols, 1))
    for start in range(0, X.shape[0], step):
        block = X[start : start + step]
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        block = block.astype(np.float64)
        swb = sw[start : start + step]
        seen = ~np.isnan(block)
        one_hot = np.zeros((block.shape[0], n_cols))
        r, j = np.nonzero(seen)
        one_hot[r, starts[j] + block[r, j].astype(np.intp)] = 1.0
        pair_counts += one_hot.T @ (swb[:, None] * one_hot)
        seen_f = seen.astype(np.float64)
        both_seen += seen_f.T @ (swb[:, None] * seen_f)
    flat = np.hstack(probs)
    model = flat.T @ (weights[:, None] * flat)
    bvr = np.full((n_items, n_items), np.nan)
    for j in range(n_items):
        for m in range(j + 1, n_items):
            rows = slice(starts[j], starts[j] + n_cat[j])
            cols = slice(starts[m], starts[m] + n_cat[m])
            observed = pair_counts[rows, cols]
            expected = both_seen[j, m] * model[rows, cols]
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(
                    expected > 0, (observed - expected) ** 2 / expected, 0.0
                )
            df = (n_cat[j] - 1) * (n_cat[m] - 1)
            bvr[j, m] = bvr[m, j] = terms.sum() / max(df, 1)
    return bvr


# ---------------------------------------------------------------------------
# Reports


def _stderrs(estimator, X, sample_weight, se_method):
    """Standard errors from the fitted attributes, else computed on X."""
    w_se = getattr(estimator, "weights_stderr_", None)
    if hasattr(estimator, "category_probs_"):
        p_se = getattr(estimator, "category_probs_stderr_", None)
    else:
        p_se = getattr(estimator, "means_stderr_", None)
    if (w_se is None or p_se is None) and X is not None and se_method is not None:
        res = standard_errors(estimator, X, sample_weight, method=se_method)
        w_se = res.weights_stderr
        if hasattr(estimator, "category_probs_"):
            p_se = res.category_probs_stderr
        else:
            p_se = res.means_stderr
    if p_se is not None and not hasattr(estimator, "category_probs_"):
        p_se = [np.column_stack([s, s]) for s in np.asarray(p_se).T]
    return w_se, p_se


def _item_names(estimator, n_items):
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == n_items:
        return [str(n) for n in names]
    return [f"item {j}" for j in range(n_items)]


def summary_frames(estimator, X=None, *, sample_weight=None, se_method="hessian"):
    """The tables of a latent class report, as pandas DataFrames.

    Parameters
    ----------
    estimator : fitted BernoulliMixture or CategoricalMixture
        The model.

    X : array-like of shape (n_samples, n_features), default=None
        The data it was fitted on. Needed for the fit criteria, the
        classification and, unless the estimator stores them, the standard
        errors.

    sample_weight : array-like of shape (n_samples,), default=None
        The frequency weights of the fit.

    se_method : {"hessian", "opg", "sandwich"} or None, default="hessian"
        How to compute standard errors the estimator does not store; None
        leaves them out.

    Returns
    -------
    frames : dict of pandas.DataFrame
        ``"classes"``: one row per class, the estimated share
        (``weight``), its standard error, and with `X` the modal
        assignment's share (``assigned``) and the average posterior
        probability of the assigned samples. ``"items"``: one row per class,
        item and category (for 0/1 items only the probability of a 1), the
        probability and its standard error. ``"fit"``: one row of criteria
        (with `X`): log-likelihood, number of parameters, n, AIC, BIC,
        SABIC, CAIC and entropy.

    See Also
    --------
    summary : The same as text.
    """
    import pandas as pd

    weights, probs = _item_probabilities(estimator)
    n_components = weights.shape[0]
    w_se, p_se = _stderrs(estimator, X, sample_weight, se_method)
    classes = pd.DataFrame(
        {"weight": weights}, index=pd.Index(range(n_components), name="class")
    )
    if w_se is not None:
        classes["stderr"] = np.asarray(w_se)
    crit = _AsCriteria(estimator)
    fit = None
    if X is not None:
        resp = np.asarray(estimator.predict_proba(X))
        sw = check_sample_weight(sample_weight, resp.shape[0])
        labels = resp.argmax(axis=1)
        classes["assigned"] = (
            np.bincount(labels, weights=sw, minlength=n_components) / sw.sum()
        )
        classes["average_posterior"] = crit.average_posterior(X, sample_weight)
        n, log_lik = crit._weighted_log_likelihood(X, sample_weight)
        p = estimator._n_parameters()
        fit = pd.DataFrame(
            {
                "log_likelihood": [log_lik],
                "n_parameters": [p],
                "n": [n],
                "aic": [-2 * log_lik + 2 * p],
                "bic": [-2 * log_lik + p * np.log(n)],
                "sabic": [-2 * log_lik + p * np.log((n + 2) / 24)],
                "caic": [-2 * log_lik + p * (np.log(n) + 1)],
                "entropy": [crit.entropy(X, sample_weight)],
            }
        )
    binary = not hasattr(estimator, "category_probs_")
    names = _item_names(estimator, len(probs))
    rows = []
    for k in range(n_components):
        for j, p in enumerate(probs):
            cats = [1] if binary else range(p.shape[1])
            for c in cats:
                row = {
                    "class": k,
                    "item": names[j],
                    "category": c,
                    "probability": p[k, c],
                }
                if p_se is not None:
                    row["stderr"] = np.asarray(p_se[j])[k, c]
                rows.append(row)
    items = pd.DataFrame(rows).set_index(["class", "item", "category"])
    frames = {"classes": classes, "items": items}
    if fit is not None:
        frames["fit"] = fit
    return frames


def summary(estimator, X=None, *, sample_weight=None, se_method="hessian"):
    """Text report of a fitted latent class model.

    Class sizes, item-response probabilities with standard errors, fit
    criteria and the classification's entropy: the tables of a latent class
    paper.

    Parameters
    ----------
    estimator : fitted BernoulliMixture or CategoricalMixture
        The model.

    X : array-like of shape (n_samples, n_features), default=None
        The data it was fitted on; without it, only the parameters (and
        the standard errors the estimator stores) are reported.

    sample_weight : array-like of shape (n_samples,), default=None
        The frequency weights of the fit.

    se_method : {"hessian", "opg", "sandwich"} or None, default="hessian"
        How to compute standard errors the estimator does not store; None
        leaves them out.

    Returns
    -------
    report : str
        The report; print it.

    See Also
    --------
    summary_frames : The same tables as DataFrames.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bernoulli_mix import BernoulliMixture, summary
    >>> rng = np.random.RandomState(0)
    >>> z = rng.randint(2, size=400)
    >>> X = (rng.random_sample((400, 3)) < np.where(z[:, None], 0.9, 0.1))
    >>> mix = BernoulliMixture(2, random_state=0).fit(X)
    >>> print(summary(mix, X))  # doctest: +ELLIPSIS
    Latent class model: BernoulliMixture, 2 classes, 3 items
    ...
    """
    weights, probs = _item_probabilities(estimator)
    frames = summary_frames(
        estimator, X, sample_weight=sample_weight, se_method=se_method
    )
    import pandas as pd

    lines = [
        f"Latent class model: {type(estimator).__name__}, "
        f"{weights.shape[0]} classes, {len(probs)} items",
        "",
    ]
    with pd.option_context("display.float_format", "{:.4f}".format):
        if "fit" in frames:
            fit = frames["fit"].iloc[0]
            lines += [
                "Fit",
                f"  log-likelihood  {fit['log_likelihood']:.3f}",
                f"  parameters      {int(fit['n_parameters'])}",
                f"  n               {fit['n']:g}",
                f"  AIC             {fit['aic']:.3f}",
                f"  BIC             {fit['bic']:.3f}",
                f"  SABIC           {fit['sabic']:.3f}",
                f"  CAIC            {fit['caic']:.3f}",
                f"  entropy         {fit['entropy']:.4f}",
                "",
            ]
        lines += ["Class sizes", frames["classes"].to_string(), ""]
        items = frames["items"]
        title = "Item-response probabilities"
        if not hasattr(estimator, "category_probs_"):
            title += " (P(item = 1 | class))"
        wide = (
            items["probability"]
            .unstack("class")
            .reindex(items.index.droplevel("class").unique())
        )
        if "stderr" in items:
            se = items["stderr"].unstack("class").reindex(wide.index)
            wide = wide.copy()
            for k in se.columns:
                wide[k] = [f"{p:.4f} ({s:.4f})" for p, s in zip(wide[k], se[k])]
            title += ", standard errors in parentheses"
        wide.columns = [f"class {k}" for k in wide.columns]
        if not hasattr(estimator, "category_probs_"):
            wide.index = wide.index.droplevel("category")
        lines += [title, wide.to_string()]
    return "\n".join(lines)
