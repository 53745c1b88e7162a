"""Standard errors of every parameter of a learned latent class model.

Pure functions of the data and of the parameters, for the two learned
families: the Bernoulli mixture (``weights``, ``means``) and the categorical
mixture (``weights``, ``category_probs``). They compute, at the given
parameters, the covariance of the free parameters in the logit
parameterisation and the standard errors of the probabilities by the delta
method.

The mathematics
---------------
Write the row log-likelihood ``l_i = log sum_k w_k f_k(x_i)``, the posterior
``r_ik``, and ``a_ik`` the score of the complete-data log-likelihood
``log w_k + log f_k(x_i)`` of row ``i`` in class ``k``. Then, exactly and at
any parameters (Louis, 1982),

    grad l_i = g_i = sum_k r_ik a_ik,
    -hess l_i = sum_k r_ik (-hess c_ik) - sum_k r_ik a_ik a_ik^T + g_i g_i^T.

In the softmax parameterisation ``-hess c_ik`` does not depend on the
category seen, only on whether the item was observed, so the first term sums
to ``N (diag(w) - w w^T)`` for the weights and to ``n_kj (diag(p_kj) - p_kj
p_kj^T)`` for the categories of item ``j`` in class ``k``, ``n_kj`` the
posterior count of class ``k`` among the rows that observed item ``j``.
Everything is accumulated over blocks of rows, so no array of
``n_samples x n_parameters`` is ever held.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.utils import Bunch

from ._validation import (
    NonIdentifiableWarning,
    check_binary,
    check_probabilities,
    check_sample_weight,
    check_weights,
)

METHODS = ("hessian", "opg", "sandwich")

# A probability within this distance of 0 or 1 (or the clip eps, if larger)
# is on the boundary of the parameter space: its logit is infinite and the
# Wald approximation does not hold there.
_BOUNDARY = 1e-6

# Rows per block aim at about this many entries of the per-row score matrix.
_BLOCK_ENTRIES = 1 << 16


class _Layout:
    """Where each item's categories live in the one-hot columns.

    Item ``j`` owns the columns ``starts[j] : starts[j] + n_categories[j]``,
    one per category.
    """

    def __init__(self, n_categories):
        self.n_categories = np.asarray(n_categories, dtype=np.intp)
        self.starts = np.concatenate([[0], np.cumsum(self.n_categories)[:-1]])
        self.n_columns = int(self.n_categories.sum())
        self.item_of_column = np.repeat(
            np.arange(self.n_categories.size), self.n_categories
        )
        self.category_of_column = np.arange(self.n_columns) - np.repeat(
            self.starts, self.n_categories
        )


def _bernoulli_blocks(X, layout, rows_per_block):
    """Yield ``(rows, one_hot, observed)`` for a 0/1 X with NaN missing."""
    n_samples, n_features = X.shape
    for start in range(0, n_samples, rows_per_block):
        rows = slice(start, min(start + rows_per_block, n_samples))
        block = X[rows]
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        block = block.astype(np.float64, copy=False)
        seen = ~np.isnan(block)
        one_hot = np.empty((block.shape[0], 2 * n_features))
        one_hot[:, 0::2] = seen & (block == 0)
        one_hot[:, 1::2] = seen & (block == 1)
        yield rows, one_hot, np.repeat(seen, 2, axis=1).astype(np.float64)


def _categorical_blocks(X, layout, rows_per_block):
    """Yield ``(rows, one_hot, observed)`` for integer codes with NaN missing."""
    n_samples = X.shape[0]
    for start in range(0, n_samples, rows_per_block):
        rows = slice(start, min(start + rows_per_block, n_samples))
        block = np.asarray(X[rows], dtype=np.float64)
        seen = ~np.isnan(block)
        one_hot = np.zeros((block.shape[0], layout.n_columns))
        r, j = np.nonzero(seen)
        one_hot[r, layout.starts[j] + block[r, j].astype(np.intp)] = 1.0
        observed = np.repeat(seen, layout.n_categories, axis=1).astype(np.float64)
        yield rows, one_hot, observed


class _Parameterisation:
    """Free logits with a reference class and a reference category per item.

    ``ref_class`` is the class whose weight logit is 0 and ``ref_category``
    (n_components, n_items) the category whose logit is 0 in each class and
    item. The free parameters are, in order, ``log(w_l / w_ref)`` for the
    classes ``l != ref_class`` in increasing order, then for each class
    ``k``, each item ``j`` and each category ``c != ref_category[k, j]`` in
    increasing order, ``log(p_kjc / p_kj,ref)``.
    """

    def __init__(self, layout, n_components, ref_class, ref_category):
        self.layout = layout
        self.n_components = n_components
        self.ref_class = int(ref_class)
        self.ref_category = np.asarray(ref_category, dtype=np.intp)
        self.free_classes = np.delete(np.arange(n_components), self.ref_class)
        self.n_weight = n_components - 1
        self.n_per_class = layout.n_columns - layout.n_categories.size
        self.n_params = self.n_weight + n_components * self.n_per_class
        # One-hot columns of the free categories of each class, in order.
        ref_columns = layout.starts + self.ref_category
        self.free_columns = [
            np.setdiff1d(np.arange(layout.n_columns), ref_columns[k])
            for k in range(n_components)
        ]

    def class_offset(self, k):
        return self.n_weight + k * self.n_per_class

    def weight_position(self, k):
        """Index of ``log(w_k / w_ref)``, or None for the reference class."""
        if k == self.ref_class:
            return None
        return int(np.searchsorted(self.free_classes, k))

    def category_position(self, k, column):
        """Index of the logit of one-hot ``column`` in class k, or None (ref)."""
        pos = np.searchsorted(self.free_columns[k], column)
        if pos < self.free_columns[k].size and self.free_columns[k][pos] == column:
            return self.class_offset(k) + int(pos)
        return None


def _softmax_information(p, free):
    """``diag(p) - p p^T`` restricted to the free categories."""
    q = p[free]
    return np.diag(q) - np.outer(q, q)


def _information(
    blocks,
    sample_weight,
    weights,
    probs,
    param,
    *,
    alpha=0.0,
    hessian=True,
):
    """Observed information and outer product of scores at given parameters.

    Parameters
    ----------
    blocks : iterable of (rows, one_hot, observed)
    sample_weight : ndarray of shape (n_samples,)
    weights : ndarray of shape (n_components,)
    probs : ndarray of shape (n_components, n_columns)
        The category probabilities of every item, concatenated.
    param : _Parameterisation
    alpha : float
        Strength of the symmetric Dirichlet(1 + alpha) prior on each item's
        categories; its curvature is added to the information.
    hessian : bool
        When False only the outer product of scores is computed.

    Returns
    -------
    Bunch with ``information`` (minus the Hessian of the log-likelihood plus
    log-prior, or None), ``opg`` (sum of ``s_i g_i g_i^T``), ``score`` (sum of
    ``s_i g_i``), ``log_likelihood``.
    """
    layout = param.layout
    n_components = weights.shape[0]
    n_params, n_weight, q = param.n_params, param.n_weight, param.n_per_class
    free_w = param.free_classes
    with np.errstate(divide="ignore"):
        log_w = np.log(weights)
        log_p = np.log(probs)
    log_p = np.where(np.isfinite(log_p), log_p, -1e300)
    opg = np.zeros((n_params, n_params))
    score = np.zeros(n_params)
    missing = [np.zeros((n_weight + q, n_weight + q)) for _ in range(n_components)]
    posterior_observed = np.zeros((n_components, layout.n_columns))
    total, log_lik = 0.0, 0.0
    eye_w = np.eye(n_components)[:, free_w] - weights[free_w]  # rows: e_k - w
    for rows, one_hot, observed in blocks:
        sw = sample_weight[rows]
        joint = one_hot @ log_p.T + log_w
        norm = logsumexp(joint, axis=1)
        resp = np.exp(joint - norm[:, None])
        log_lik += float(sw @ norm)
        total += float(sw.sum())
        scores = np.empty((one_hot.shape[0], n_params))
        scores[:, :n_weight] = resp[:, free_w] - weights[free_w]
        weighted_resp = resp * sw[:, None]
        for k in range(n_components):
            u = (one_hot - observed * probs[k])[:, param.free_columns[k]]
            off = param.class_offset(k)
            scores[:, off : off + q] = resp[:, [k]] * u
            if not hessian:
                continue
            d = weighted_resp[:, k]
            e = eye_w[k]
            du = d @ u
            m = missing[k]
            m[:n_weight, :n_weight] += d.sum() * np.outer(e, e)
            m[:n_weight, n_weight:] += np.outer(e, du)
            m[n_weight:, n_weight:] += u.T @ (d[:, None] * u)
            posterior_observed[k] += d @ observed
        opg += scores.T @ (sw[:, None] * scores)
        score += sw @ scores
    out = Bunch(opg=opg, score=score, log_likelihood=log_lik, information=None)
    if not hessian:
        return out
    info = opg.copy()
    if n_weight:
        wf = weights[free_w]
        info[:n_weight, :n_weight] += total * (np.diag(wf) - np.outer(wf, wf))
    for k in range(n_components):
        idx = np.concatenate(
            [np.arange(n_weight), param.class_offset(k) + np.arange(q)]
        )
        m = missing[k]
        m[n_weight:, :n_weight] = m[:n_weight, n_weight:].T
        info[np.ix_(idx, idx)] -= m
        pos = param.class_offset(k)
        for j in range(layout.n_categories.size):
            cols = np.arange(
                layout.starts[j], layout.starts[j] + layout.n_categories[j]
            )
            free = np.delete(np.arange(cols.size), param.ref_category[k, j])
            p_kj = probs[k, cols]
            curvature = _softmax_information(p_kj, free)
            n_kj = posterior_observed[k, cols[0]]
            weight = n_kj + alpha * cols.size
            sl = slice(pos, pos + free.size)
            info[sl, sl] += weight * curvature
            pos += free.size
    out.information = info
    return out


def _null_parameters(matrix, rtol=1e-10):
    """Mask of the parameters with a component in the null space of ``matrix``.

    Returns ``(mask, eigval, eigvec)``; eigenvalues below ``rtol`` times the
    largest (and negative ones) count as null.
    """
    n = matrix.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0), np.zeros((0, 0))
    eigval, eigvec = np.linalg.eigh((matrix + matrix.T) / 2)
    if not np.all(np.isfinite(eigval)):
        return np.ones(n, dtype=bool), eigval, eigvec
    scale = max(eigval[-1], 0.0)
    null = eigval <= scale * rtol * n
    loading = (eigvec[:, null] ** 2).sum(axis=1)
    return loading > 1e-6, eigval, eigvec


def _pseudo_inverse(eigval, eigvec, rtol=1e-10):
    n = eigval.size
    if n == 0:
        return np.zeros((0, 0))
    keep = eigval > max(eigval[-1], 0.0) * rtol * n
    v = eigvec[:, keep]
    return (v / eigval[keep]) @ v.T


def _covariance(info, opg, method, keep):
    """Covariance of the kept parameters; ``(cov, undefined)`` full-size.

    ``undefined`` marks the kept parameters that the (bread) matrix does not
    identify.
    """
    n = info.shape[0] if info is not None else opg.shape[0]
    idx = np.flatnonzero(keep)
    bread = opg if method == "opg" else info
    sub = bread[np.ix_(idx, idx)]
    null, eigval, eigvec = _null_parameters(sub)
    inv = _pseudo_inverse(eigval, eigvec)
    if method == "sandwich":
        inv = inv @ opg[np.ix_(idx, idx)] @ inv
    cov = np.full((n, n), np.nan)
    cov[np.ix_(idx, idx)] = inv
    undefined = np.zeros(n, dtype=bool)
    undefined[idx[null]] = True
    cov[undefined, :] = np.nan
    cov[:, undefined] = np.nan
    return cov, undefined


def _reference_map(internal, documented):
    """Matrix T with ``theta_documented = T theta_internal``.

    Both parameterisations are softmax logits that differ by their
    reference class and categories, so the map is linear.
    """
    n = internal.n_params
    t = np.zeros((n, n))
    n_components = internal.n_components
    for k in documented.free_classes:
        row = documented.weight_position(k)
        col = internal.weight_position(k)
        if col is not None:
            t[row, col] += 1.0
        col = internal.weight_position(documented.ref_class)
        if col is not None:
            t[row, col] -= 1.0
    layout = internal.layout
    for k in range(n_components):
        for column in documented.free_columns[k]:
            row = documented.category_position(k, column)
            j = layout.item_of_column[column]
            ref_column = layout.starts[j] + documented.ref_category[k, j]
            col = internal.category_position(k, column)
            if col is not None:
                t[row, col] += 1.0
            col = internal.category_position(k, ref_column)
            if col is not None:
                t[row, col] -= 1.0
    return t


def _delta_stderr(cov, fixed, undefined, positions, p):
    """Standard errors of ``softmax`` probabilities ``p`` by the delta method.

    ``positions[c]`` is the index of the logit of category ``c`` in the
    covariance, or None for the reference. Fixed (boundary) logits are
    constants: their own probability gets NaN; undefined logits make every
    probability of the group NaN.
    """
    out = np.full(p.size, np.nan)
    cols = [(c, i) for c, i in enumerate(positions) if i is not None]
    if any(undefined[i] for _, i in cols):
        return out
    used = [(c, i) for c, i in cols if not fixed[i]]
    if not used:
        out[:] = 0.0
    else:
        cats = np.array([c for c, _ in used])
        idx = np.array([i for _, i in used])
        jac = -np.outer(p, p[cats])
        jac[cats, np.arange(cats.size)] += p[cats]
        var = np.einsum("ij,jk,ik->i", jac, cov[np.ix_(idx, idx)], jac)
        out[:] = np.sqrt(np.clip(var, 0, None))
    for c, i in cols:
        if fixed[i]:
            out[c] = np.nan
    return out


def _list_names(names, limit=10):
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f" and {len(names) - limit} more"
    return shown


def _standard_errors(
    blocks_factory,
    sample_weight,
    weights,
    probs,
    layout,
    *,
    method,
    alpha,
    clip_eps,
    weight_names,
    category_names,
    documented_names,
):
    """Shared driver of the two families; see the public functions."""
    if method not in METHODS:
        raise ValueError(
            f"method must be one of {', '.join(repr(m) for m in METHODS)}; "
            f"got {method!r}."
        )
    if not (np.isscalar(alpha) and np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a finite number >= 0; got {alpha!r}.")
    n_components = weights.shape[0]
    n_items = layout.n_categories.size
    tol = _BOUNDARY if clip_eps is None else max(_BOUNDARY, 2 * float(clip_eps))

    # The internal parameterisation takes the largest class and each item's
    # most probable category as references: they are never on the boundary,
    # so a rare category or a small class loses only its own logit.
    ref_category = np.empty((n_components, n_items), dtype=np.intp)
    for j in range(n_items):
        cols = slice(layout.starts[j], layout.starts[j] + layout.n_categories[j])
        ref_category[:, j] = probs[:, cols].argmax(axis=1)
    internal = _Parameterisation(
        layout, n_components, int(np.argmax(weights)), ref_category
    )
    documented = _Parameterisation(
        layout, n_components, 0, np.zeros((n_components, n_items), dtype=np.intp)
    )
    stats = _information(
        blocks_factory(internal.n_params),
        sample_weight,
        weights,
        probs,
        internal,
        alpha=alpha,
        hessian=method != "opg",
    )

    # Boundary parameters are held fixed: an empty class (its weight logit
    # and all its categories) and categories of probability near 0.
    fixed = np.zeros(internal.n_params, dtype=bool)
    for k in internal.free_classes:
        if weights[k] <= tol:
            fixed[internal.weight_position(k)] = True
    for k in range(n_components):
        off = internal.class_offset(k)
        block = slice(off, off + internal.n_per_class)
        if weights[k] <= tol:
            fixed[block] = True
            continue
        fixed[block] |= probs[k, internal.free_columns[k]] <= tol
    cov, undefined = _covariance(stats.information, stats.opg, method, ~fixed)

    # Probability scale, by the delta method.
    positions = [internal.weight_position(k) for k in range(n_components)]
    weights_stderr = _delta_stderr(cov, fixed, undefined, positions, weights)
    if n_components == 1:
        weights_stderr = np.zeros(1)
    probs_stderr = np.empty_like(probs)
    for k in range(n_components):
        for j in range(n_items):
            cols = np.arange(
                layout.starts[j], layout.starts[j] + layout.n_categories[j]
            )
            positions = [internal.category_position(k, c) for c in cols]
            probs_stderr[k, cols] = _delta_stderr(
                cov, fixed, undefined, positions, probs[k, cols]
            )

    # The documented parameterisation: first class, first category.
    t = _reference_map(internal, documented)
    bad = fixed | undefined
    cov_doc = t @ np.where(bad[:, None] | bad[None, :], 0.0, cov) @ t.T
    bad_doc = np.any((t != 0) & bad[None, :], axis=1)
    cov_doc[bad_doc, :] = np.nan
    cov_doc[:, bad_doc] = np.nan

    # A probability within tol of 0 or 1 is on the boundary, the reference
    # ones included (a reference near 1 means the others are near 0).
    weights_boundary = (weights <= tol) | (weights >= 1 - tol)
    if n_components == 1:
        weights_boundary[:] = False
    probs_boundary = (probs <= tol) | (probs >= 1 - tol) | (weights[:, None] <= tol)
    weights_stderr[weights_boundary] = np.nan
    probs_stderr[probs_boundary] = np.nan
    _warn(
        weights_stderr,
        probs_stderr,
        weights_boundary,
        probs_boundary,
        layout,
        tol,
        weight_names,
        category_names,
    )
    return Bunch(
        covariance=cov_doc,
        parameter_names=documented_names(documented),
        weights_stderr=weights_stderr,
        probs_stderr=probs_stderr,
        method=method,
        log_likelihood=stats.log_likelihood,
    )


def _warn(
    weights_stderr,
    probs_stderr,
    weights_boundary,
    probs_boundary,
    layout,
    tol,
    weight_names,
    category_names,
):
    boundary, singular = [], []
    for k in np.flatnonzero(np.isnan(weights_stderr)):
        (boundary if weights_boundary[k] else singular).append(weight_names(k))
    for k, column in zip(*np.nonzero(np.isnan(probs_stderr))):
        j = layout.item_of_column[column]
        c = layout.category_of_column[column]
        target = boundary if probs_boundary[k, column] else singular
        target.append(category_names(k, j, c))
    boundary = list(dict.fromkeys(boundary))
    singular = list(dict.fromkeys(singular))
    if boundary:
        warnings.warn(
            "Standard errors are NaN for parameters on the boundary of the "
            f"parameter space (a probability within {tol:.0e} of 0 or 1, or an "
            "empty class), where the logit is infinite and the Wald "
            "approximation does not hold; they are held fixed for the other "
            f"parameters' errors: {_list_names(boundary)}.",
            NonIdentifiableWarning,
            stacklevel=4,
        )
    if singular:
        warnings.warn(
            "The information matrix is singular or not positive definite: "
            "the data do not identify these parameters (too many classes for "
            "the items, two classes alike, too few rows), or the parameters "
            "are not a maximum of the likelihood (did the fit converge?), so "
            "their standard errors are NaN: "
            f"{_list_names(singular)}.",
            NonIdentifiableWarning,
            stacklevel=4,
        )


def _check_method_inputs(weights, n_samples, sample_weight):
    weights = check_weights(weights, np.asarray(weights).shape[0], name="weights")
    sample_weight = check_sample_weight(sample_weight, n_samples)
    return weights, sample_weight


def _rows_per_block(n_params, n_columns):
    return max(64, _BLOCK_ENTRIES // max(n_params, n_columns, 1))


def bernoulli_standard_errors(
    X, sample_weight, weights, means, *, method="hessian", alpha=0.0, clip_eps=None
):
    """Standard errors of the weights and success probabilities of a Bernoulli mixture.

    Computed at the given parameters (the maximum likelihood or MAP estimate
    of a fit), from the observed-data log-likelihood
    ``sum_i s_i log sum_k w_k prod_j p_kj^x_ij (1 - p_kj)^(1 - x_ij)``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        0/1 data; NaN marks a missing value, left out of the likelihood
        (missing at random). A sparse matrix is densified a block of rows at
        a time.

    sample_weight : array-like of shape (n_samples,) or None
        Frequency weights: a weight of 3 counts as three copies of the row.
        None gives every row weight one.

    weights : array-like of shape (n_components,)
        Mixing weights.

    means : array-like of shape (n_components, n_features)
        Success probabilities ``p_kj``.

    method : {"hessian", "opg", "sandwich"}, default="hessian"
        ``"hessian"``: inverse of the observed information, minus the exact
        (analytic, Louis' formula) Hessian of the log-likelihood.
        ``"opg"``: inverse of the sum of the outer products of the per-row
        scores, ``sum_i s_i g_i g_i^T`` (what poLCA reports).
        ``"sandwich"``: ``H^-1 OPG H^-1``, robust to misspecification (Mplus'
        MLR).

    alpha : float, default=0.0
        Strength of the Beta(1 + alpha, 1 + alpha) prior of the fit. With
        ``alpha > 0`` the parameters are a posterior mode (MAP), and
        ``"hessian"`` and the bread of ``"sandwich"`` use the curvature of
        the log-posterior (log-likelihood plus ``alpha sum log p (1 - p)``),
        i.e. the Laplace approximation of the posterior; ``"opg"`` and the
        meat of ``"sandwich"`` use the per-row scores of the log-likelihood
        only, as the prior is not a sum over rows. ``alpha=0`` is plain
        maximum likelihood.

    clip_eps : float or None, default=None
        The clip of the fit's probabilities; a probability within
        ``max(1e-6, 2 * clip_eps)`` of 0 or 1 is on the boundary.

    Returns
    -------
    result : Bunch
        ``covariance`` : ndarray of shape (n_params, n_params), the
        covariance of the free parameters ``theta`` in this order:
        ``log(weights[k] / weights[0])`` for ``k = 1 .. K - 1``, then
        ``logit(means[k, j])`` for ``k = 0 .. K - 1`` and, within each
        ``k``, ``j = 0 .. d - 1`` (row-major), ``n_params = K - 1 + K d``.
        ``parameter_names`` : list of str, the names of ``theta`` in that
        order. ``weights_stderr`` : ndarray of shape (n_components,).
        ``means_stderr`` : ndarray of shape (n_components, n_features).
        ``method`` : str. ``log_likelihood`` : float, the weighted
        log-likelihood at the parameters.

    Warns
    -----
    NonIdentifiableWarning
        Naming the parameters whose standard error is NaN: probabilities on
        the boundary (within ``1e-6`` of 0 or 1, or of an empty class),
        which are then held fixed for the other parameters' errors, and
        parameters that a singular information matrix does not identify.

    Notes
    -----
    The standard errors on the probability scale come from the covariance
    of the logits by the delta method; they do not depend on which class
    or category is the reference, and internally the largest class and the
    more probable outcome of each item are the references, so that a
    parameter on the boundary makes only its own entries NaN. The entries
    of ``covariance`` that involve an infinite logit (a boundary parameter,
    or a reference on the boundary) are NaN.

    Memory is ``O(n_params^2)`` plus a block of rows of per-row scores;
    time is ``O(n_samples K d^2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bernoulli_mix import bernoulli_standard_errors
    >>> X = np.array([[1.0], [1.0], [0.0], [1.0]])
    >>> res = bernoulli_standard_errors(X, None, [1.0], [[0.75]])
    >>> res.means_stderr.round(4)  # sqrt(0.75 * 0.25 / 4)
    array([[0.2165]])
    """
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        check_binary(X)
    else:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D; got shape {X.shape}.")
        check_binary(X)
    weights, sample_weight = _check_method_inputs(weights, X.shape[0], sample_weight)
    means = check_probabilities(means, "means", shape=(weights.shape[0], X.shape[1]))
    n_components, n_features = means.shape
    layout = _Layout(np.full(n_features, 2))
    probs = np.empty((n_components, 2 * n_features))
    probs[:, 0::2] = 1 - means
    probs[:, 1::2] = means

    def documented_names(param):
        names = [f"log(weights[{k}]/weights[0])" for k in param.free_classes]
        names += [
            f"logit(means[{k}, {j}])"
            for k in range(n_components)
            for j in range(n_features)
        ]
        return names

    res = _standard_errors(
        lambda n_params: _bernoulli_blocks(
            X, layout, _rows_per_block(n_params, layout.n_columns)
        ),
        sample_weight,
        weights,
        probs,
        layout,
        method=method,
        alpha=float(alpha),
        clip_eps=clip_eps,
        weight_names=lambda k: f"weights_[{k}]",
        category_names=lambda k, j, c: f"means_[{k}, {j}]",
        documented_names=documented_names,
    )
    res.means_stderr = res.pop("probs_stderr")[:, 1::2].copy()
    return res


def _check_codes(X, n_categories):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != len(n_categories):
        raise ValueError(
            f"X must be 2-D with one column per item ({len(n_categories)}); "
            f"got shape {X.shape}."
        )
    seen = ~np.isnan(X)
    if not np.all(np.isfinite(X[seen])):
        raise ValueError("X contains infinity; use NaN for missing values.")
    codes = X[seen]
    if np.any(codes != np.round(codes)) or np.any(codes < 0):
        raise ValueError(
            "X must hold integer category codes 0, 1, ..., n_categories - 1 "
            "(NaN for missing); found non-integer or negative values."
        )
    too_big = np.nonzero(seen & (X >= np.asarray(n_categories)[None, :]))[1]
    if too_big.size:
        j = int(too_big[0])
        raise ValueError(
            f"Column {j} of X holds a code >= {n_categories[j]}, the number of "
            f"categories of item {j} in category_probs."
        )
    return X


def categorical_standard_errors(
    X,
    sample_weight,
    weights,
    category_probs,
    *,
    method="hessian",
    alpha=0.0,
    clip_eps=None,
):
    """Standard errors of the weights and category probabilities of a categorical mixture.

    Computed at the given parameters, from the observed-data log-likelihood
    ``sum_i s_i log sum_k w_k prod_j p_kj[x_ij]``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_items)
        Integer category codes ``0 .. C_j - 1`` of each item; NaN marks a
        missing value, left out of the likelihood (missing at random).

    sample_weight : array-like of shape (n_samples,) or None
        Frequency weights; None gives every row weight one.

    weights : array-like of shape (n_components,)
        Mixing weights.

    category_probs : list of array-like of shape (n_components, C_j)
        For each item, the probability of each category in each class.

    method : {"hessian", "opg", "sandwich"}, default="hessian"
        As in :func:`bernoulli_standard_errors`.

    alpha : float, default=0.0
        Strength of the symmetric Dirichlet(1 + alpha) prior on each item's
        categories in each class. With ``alpha > 0``, ``"hessian"`` and the
        bread of ``"sandwich"`` use the curvature of the log-posterior (the
        Laplace approximation at the MAP); the scores are those of the
        log-likelihood.

    clip_eps : float or None, default=None
        The clip of the fit's probabilities; a probability within
        ``max(1e-6, 2 * clip_eps)`` of 0 or 1 is on the boundary.

    Returns
    -------
    result : Bunch
        ``covariance`` : ndarray of shape (n_params, n_params), the
        covariance of the free parameters in this order:
        ``log(weights[k] / weights[0])`` for ``k = 1 .. K - 1``, then for
        each class ``k``, each item ``j`` and each category
        ``c = 1 .. C_j - 1``, ``log(category_probs[j][k, c] /
        category_probs[j][k, 0])``; ``n_params = K - 1 + K sum_j (C_j - 1)``.
        ``parameter_names`` : list of str in that order.
        ``weights_stderr`` : ndarray of shape (n_components,).
        ``category_probs_stderr`` : list of ndarray of shape
        (n_components, C_j). ``method`` : str. ``log_likelihood`` : float.

    Warns
    -----
    NonIdentifiableWarning
        Naming the parameters whose standard error is NaN (boundary or not
        identified), as in :func:`bernoulli_standard_errors`.

    See Also
    --------
    bernoulli_standard_errors : The same for 0/1 items; a 0/1 item is a
        categorical item with two categories and gives the same errors.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bernoulli_mix import categorical_standard_errors
    >>> X = np.array([[0], [1], [2], [2]])
    >>> res = categorical_standard_errors(X, None, [1.0], [[[0.25, 0.25, 0.5]]])
    >>> res.category_probs_stderr[0].round(4)  # sqrt(p (1 - p) / 4)
    array([[0.2165, 0.2165, 0.25  ]])
    """
    weights = check_weights(weights, np.asarray(weights).shape[0], name="weights")
    n_components = weights.shape[0]
    if isinstance(category_probs, np.ndarray) and category_probs.ndim == 2:
        raise TypeError(
            "category_probs must be a list with one (n_components, C_j) array "
            "per item, not a single 2-D array."
        )
    blocks_in = []
    for j, p in enumerate(category_probs):
        p = check_probabilities(p, f"category_probs[{j}]")
        if p.shape[0] != n_components or p.shape[1] < 1:
            raise ValueError(
                f"category_probs[{j}] must have shape (n_components={n_components}, "
                f"C_j); got {p.shape}."
            )
        if np.any(np.abs(p.sum(axis=1) - 1) > 1e-6):
            raise ValueError(
                f"The rows of category_probs[{j}] must sum to 1 over the categories."
            )
        blocks_in.append(p)
    n_categories = [p.shape[1] for p in blocks_in]
    X = _check_codes(X, n_categories)
    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    layout = _Layout(n_categories)
    probs = np.hstack(blocks_in)

    def documented_names(param):
        names = [f"log(weights[{k}]/weights[0])" for k in param.free_classes]
        names += [
            f"log(category_probs[{j}][{k}, {c}]/category_probs[{j}][{k}, 0])"
            for k in range(n_components)
            for j in range(len(n_categories))
            for c in range(1, n_categories[j])
        ]
        return names

    res = _standard_errors(
        lambda n_params: _categorical_blocks(
            X, layout, _rows_per_block(n_params, layout.n_columns)
        ),
        sample_weight,
        weights,
        probs,
        layout,
        method=method,
        alpha=float(alpha),
        clip_eps=clip_eps,
        weight_names=lambda k: f"weights_[{k}]",
        category_names=lambda k, j, c: f"category_probs_[{j}][{k}, {c}]",
        documented_names=documented_names,
    )
    flat = res.pop("probs_stderr")
    res.category_probs_stderr = [
        flat[:, s : s + c].copy() for s, c in zip(layout.starts, n_categories)
    ]
    return res


def standard_errors(estimator, X, sample_weight=None, *, method="hessian"):
    """Standard errors of a fitted Bernoulli or categorical mixture.

    Dispatches on the fitted attributes: ``means_`` calls
    :func:`bernoulli_standard_errors`, ``category_probs_`` calls
    :func:`categorical_standard_errors`, with the estimator's ``alpha`` and
    its preprocessing of `X` (e.g. ``binarize``).

    Parameters
    ----------
    estimator : fitted BernoulliMixture or CategoricalMixture
        The fitted model.

    X : array-like of shape (n_samples, n_features)
        The data the model was fitted on.

    sample_weight : array-like of shape (n_samples,), default=None
        The frequency weights of the fit.

    method : {"hessian", "opg", "sandwich"}, default="hessian"
        See :func:`bernoulli_standard_errors`.

    Returns
    -------
    result : Bunch
        As returned by :func:`bernoulli_standard_errors` or
        :func:`categorical_standard_errors`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bernoulli_mix import BernoulliMixture, standard_errors
    >>> X = np.array([[1, 0], [1, 1], [0, 1], [1, 1]])
    >>> mix = BernoulliMixture(alpha=0).fit(X)
    >>> standard_errors(mix, X).means_stderr.round(4)
    array([[0.2165, 0.2165]])
    """
    Xv = _validated(estimator, X)
    alpha = float(getattr(estimator, "alpha", 0.0) or 0.0)
    if hasattr(estimator, "category_probs_"):
        return categorical_standard_errors(
            Xv,
            sample_weight,
            estimator.weights_,
            estimator.category_probs_,
            method=method,
            alpha=alpha,
        )
    if hasattr(estimator, "means_"):
        return bernoulli_standard_errors(
            Xv,
            sample_weight,
            estimator.weights_,
            estimator.means_,
            method=method,
            alpha=alpha,
            clip_eps=float(np.finfo(np.float64).eps),
        )
    raise TypeError(
        f"{type(estimator).__name__} has neither means_ nor category_probs_: "
        "pass a fitted BernoulliMixture or CategoricalMixture."
    )


def _validated(estimator, X):
    """X as the estimator's prediction methods see it (binarised, checked)."""
    check = getattr(estimator, "_check_predict_input", None)
    if check is not None:
        return check(X)
    return X
