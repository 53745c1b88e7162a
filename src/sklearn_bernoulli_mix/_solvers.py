"""Mixing-weight solvers: plain functions on a scaled likelihood matrix.

Every function here works on ``lik``, the (n_rows, n_components) matrix of
component likelihoods with each row divided by its maximum (so entries are in
[0, 1] and every row has a 1), and ``freq``, the row frequencies summing to one.
The mean log-likelihood of weights ``w`` is then
``freq @ log(lik @ w) + freq @ row_max_log``; the constant second term is left
to the caller.
"""

import numpy as np

from ._validation import NonIdentifiableWarning, warn


def em_step(lik, freq, weights):
    """One EM update of the weights, with the certificate of the incoming weights.

    With ``g = lik.T @ (freq / (lik @ weights))`` the EM update is
    ``weights * g``. By Jensen's inequality, for any weights ``w*`` on the
    simplex, ``f(w*) - f(weights) <= log(sum_k w*_k g_k) <= log(max_k g_k)``,
    so ``log(max(g))`` bounds how far the mean log-likelihood of ``weights``
    (and of the update, which is never worse) is from the maximum.

    Returns
    -------
    new_weights : ndarray of shape (n_components,)
    log_lik : float
        Scaled mean log-likelihood of the incoming ``weights``.
    gap_bound : float
        ``log(max(g))``, an upper bound on the optimality gap.
    """
    mix = lik @ weights
    with np.errstate(divide="ignore"):
        log_lik = float(freq @ np.log(mix))
    g = lik.T @ (freq / mix)
    new_weights = weights * g
    new_weights /= new_weights.sum()
    return new_weights, log_lik, float(np.log(g.max()))


def check_explained(mix, seen, *, weights_name, row_name):
    """Raise when a row with positive weight has zero mixture likelihood.

    EM multiplies weights, so it can never revive a zero weight that such a
    row needs. ``row_name(i)`` says where row ``i`` is, for the message.
    """
    unexplained = np.flatnonzero((mix == 0) & seen)
    if unexplained.size:
        raise ValueError(
            f"The {weights_name} weights give zero likelihood to "
            f"{row_name(int(unexplained[0]))}, and EM never revives a zero "
            "weight: give every component that explains it a positive starting "
            "weight."
        )


def gap_bound(lik, freq, weights):
    """Certified upper bound on the optimality gap of ``weights`` (see em_step)."""
    g = lik.T @ (freq / (lik @ weights))
    return float(np.log(g.max()))


def weights_information(lik, counts, weights):
    """Observed Fisher information of the free mixing proportions.

    The last-but-free parametrisation drops component ``ref`` (the one with the
    largest weight): ``w_ref = 1 - sum of the others``. The log-likelihood is
    ``sum_i c_i log(lik_i @ w)``; its negative Hessian with respect to the
    free proportions is ``sum_i c_i d_i d_i^T`` with
    ``d_i = (lik_i[free] - lik_i[ref]) / (lik_i @ w)``.

    Returns
    -------
    info : ndarray of shape (n_components - 1, n_components - 1)
    ref : int
    """
    ref = int(np.argmax(weights))
    free = np.delete(np.arange(lik.shape[1]), ref)
    d = (lik[:, free] - lik[:, [ref]]) / (lik @ weights)[:, None]
    return (d * counts[:, None]).T @ d, ref


# Up to this many components, when there are enough distinct rows, the
# covariance comes from the information of all the weights; beyond, or with
# more free weights than rows, from that of the weights on their support.
_FULL_COVARIANCE_MAX_COMPONENTS = 1000


def weights_covariance(lik, counts, weights):
    """Asymptotic covariance of the weights from the observed information.

    Returns ``(cov, identifiable)``. ``cov`` has shape
    (n_components, n_components), is singular along the simplex (its rows
    sum to zero) and is NaN when the information matrix is singular, i.e.
    when the data cannot tell some components apart.

    With at most ``_FULL_COVARIANCE_MAX_COMPONENTS`` components and no more
    free proportions than rows of positive count, the information is that
    of all ``n_components - 1`` free proportions, zero weights included (a
    weight on the boundary then still gets a standard error, to be read
    with care). Otherwise, on a fine grid of candidate components, the
    information is that of the weights on their support, the components
    with a nonzero weight: a weight of exactly 0 (which mix-SQP and SQUAREM
    return when the maximum is on the boundary) gets zero rows and columns,
    so ``cov`` is the covariance of the weights on the support given that
    the others are 0 (NaN on the support when the data cannot tell its
    components apart). This costs ``O(n_rows support^2)`` instead of
    ``O(n_rows n_components^2)`` and the eigendecomposition of an
    ``n_components - 1`` square matrix.

    The information is a sum of one rank-one term per row of positive count,
    so with more free proportions than such rows it is singular, and the
    answer (NaN) needs no eigendecomposition.
    """
    n_components = lik.shape[1]
    if n_components == 1:
        return np.zeros((1, 1)), True
    support = np.flatnonzero(weights > 0)
    n_rows = int(np.count_nonzero(counts > 0))
    full = n_components - 1 <= n_rows and (
        n_components <= _FULL_COVARIANCE_MAX_COMPONENTS
    )
    if full or support.size == n_components:
        if n_components - 1 > n_rows:
            return np.full((n_components, n_components), np.nan), False
        info, ref = weights_information(lik, counts, weights)
        return covariance_from_information(info, ref, n_components)
    if support.size - 1 > n_rows:
        return _undefined_on_support(n_components, support), False
    # np.zeros leaves the untouched pages unallocated, so a large matrix
    # with a small support block costs little memory.
    cov = np.zeros((n_components, n_components))
    if support.size == 1:
        return cov, True
    info, ref = weights_information(lik[:, support], counts, weights[support])
    cov_support, identifiable = covariance_from_information(info, ref, support.size)
    if not identifiable:
        return _undefined_on_support(n_components, support), False
    cov[np.ix_(support, support)] = cov_support
    return cov, True


def _undefined_on_support(n_components, support):
    """NaN on the support block, 0 in the rows and columns of zero weights."""
    if 2 * support.size <= n_components:
        cov = np.zeros((n_components, n_components))
        cov[np.ix_(support, support)] = np.nan
        return cov
    # A large support: filling everything and clearing the few zero rows and
    # columns is much faster than a fancy-indexed assignment to the block.
    cov = np.full((n_components, n_components), np.nan)
    zero = np.setdiff1d(np.arange(n_components), support)
    cov[zero, :] = 0.0
    cov[:, zero] = 0.0
    return cov


def free_jacobian(n_components, ref):
    """Map from the free proportions (all weights but ``ref``) to all weights."""
    free = np.delete(np.arange(n_components), ref)
    jac = np.zeros((n_components, n_components - 1))
    jac[free, np.arange(n_components - 1)] = 1.0
    jac[ref, :] = -1.0
    return jac


def covariance_from_information(info, ref, n_components):
    """Covariance of all weights from the information of the free proportions.

    ``ref`` is the component left out of the free proportions. Returns
    ``(cov, identifiable)``: NaN and False when the information matrix is
    numerically singular.
    """
    if n_components == 1:
        return np.zeros((1, 1)), True
    eigval, eigvec = np.linalg.eigh(info)
    if (
        not np.all(np.isfinite(eigval))
        or eigval[0] <= eigval[-1] * 1e-10 * n_components
    ):
        return np.full((n_components, n_components), np.nan), False
    inv_info = (eigvec / eigval) @ eigvec.T
    # w = J theta + e_ref with J mapping the free proportions to all weights.
    jac = free_jacobian(n_components, ref)
    return jac @ inv_info @ jac.T, True


def store_weights_covariance(estimator, cov, identifiable):
    """Set ``weights_covariance_``/``weights_stderr_``; warn when undefined."""
    if not identifiable:
        warn(
            "The mixing weights are not identifiable on this data: the "
            "components give (nearly) proportional likelihoods to every "
            "sample (or more components have a nonzero weight than there "
            "are distinct samples), so the observed information is singular "
            "and weights_covariance_ and weights_stderr_ are NaN (for the "
            "components with nonzero weight).",
            NonIdentifiableWarning,
        )
    estimator.weights_covariance_ = cov
    estimator.weights_stderr_ = np.sqrt(np.clip(np.diag(cov), 0, None))


# ---------------------------------------------------------------------------
# Accelerated solvers. Both follow the step protocol of ``em_step``: one call
# is one iteration, and it returns the new point together with the scaled mean
# log-likelihood and the certified gap bound of the *incoming* point, so that
# the caller can stop as soon as the bound is below its tolerance.
# ---------------------------------------------------------------------------


def _log_lik(freq, mix):
    """``freq @ log(mix)``, where rows of zero frequency never count.

    A row of zero frequency may have zero likelihood under the current weights
    (nothing forces the weights to explain it); ``0 * log(0)`` must count as 0
    and not as NaN.
    """
    if mix.min() > 0:
        return float(freq @ np.log(mix))
    seen = freq > 0
    with np.errstate(divide="ignore"):
        return float(freq[seen] @ np.log(mix[seen]))


def _ratio(freq, mix):
    """``freq / mix`` with 0 for the rows of zero frequency (see `_log_lik`)."""
    if mix.min() > 0:
        return freq / mix
    out = np.zeros_like(mix)
    np.divide(freq, mix, out=out, where=freq > 0)
    return out


def _em_map(lik, freq, weights, mix=None):
    """The EM map and what it computes on the way.

    Returns ``(new_weights, log_lik, g, mix)`` with ``g = lik.T @ (freq / mix)``
    and ``mix = lik @ weights`` (pass it if known); ``log_lik`` and ``g`` are
    those of the incoming ``weights``. Unlike ``em_step`` it keeps the whole
    vector ``g``, which `squarem_step` needs for its safeguards.
    """
    if mix is None:
        mix = lik @ weights
    with np.errstate(divide="ignore", invalid="ignore"):
        log_lik = _log_lik(freq, mix)
        g = lik.T @ _ratio(freq, mix)
        new_weights = weights * g
        new_weights /= new_weights.sum()
    return new_weights, log_lik, g, mix


def _revive(lik, freq, weights, mix, g, k):
    """Move weight onto component ``k``, which has zero weight but ``g_k > 1``.

    EM multiplies each weight by ``g_k``, so it can never bring back a weight
    that the projection of `squarem_step` set to zero, however much the
    likelihood wants it (``g_k - 1`` is the derivative of the mean
    log-likelihood along ``e_k - weights``). This takes a step
    ``(1 - delta) * weights + delta * e_k`` that provably increases the
    log-likelihood: with ``t_i = lik_ik / mix_i - 1`` and ``delta <= 1/2``,
    ``log(1 + delta t_i) >= delta t_i - 2 (delta t_i)^2`` (Taylor's theorem,
    as ``1 + delta t_i >= 1/2``), so the gain is at least
    ``delta (g_k - 1) - 2 delta^2 sum_i freq_i t_i^2 > 0`` for the ``delta``
    that maximises this bound.
    """
    seen = freq > 0
    t = np.zeros_like(mix)
    t[seen] = lik[seen, k] / mix[seen] - 1.0
    curvature = float(freq @ (t * t))
    delta = min(0.5, (g[k] - 1.0) / (4.0 * curvature))
    revived = (1.0 - delta) * weights
    revived[k] += delta
    return revived


def squarem_step(lik, freq, weights, *, max_backtrack=2):
    """One SQUAREM cycle: two EM maps, an extrapolation and a stabilising map.

    SQUAREM (Varadhan & Roland, 2008, scheme S3) accelerates the EM map ``F``
    by squared extrapolation. From ``x0 = weights`` it computes
    ``x1 = F(x0)``, ``x2 = F(x1)``, ``r = x1 - x0``, ``v = x2 - 2 x1 + x0``
    and the step length ``alpha = -||r|| / ||v||``. The extrapolated point
    ``x0 - 2 alpha r + alpha^2 v`` is projected back onto the simplex by
    clipping at zero and renormalising, then one more EM map stabilises it.
    ``alpha = -1`` would give back ``x2``, plain EM, so steps are only tried
    while ``alpha < -1``.

    Safeguards, which make the mean log-likelihood non-decreasing:

    - if the extrapolated point has a lower log-likelihood than ``x0``, the
      step length is halved (the backtracking of Varadhan & Roland) up to
      ``max_backtrack`` times, then the cycle returns the plain EM iterate
      ``x2``;
    - the same fallback applies when the projection zeroed a weight whose
      ``g_k`` at the extrapolated point exceeds 1: EM never brings back a
      zero weight, so a zero is only accepted where the likelihood does not
      ask for that component;
    - if the component with the largest ``g_k`` at ``x0`` has zero weight
      (a zero that the later iterates made wrong), that component gets a
      provably improving share of the weight instead of an extrapolation.

    Parameters
    ----------
    lik : ndarray of shape (n_rows, n_components)
        Component likelihoods, each row divided by its maximum.
    freq : ndarray of shape (n_rows,)
        Row frequencies summing to one.
    weights : ndarray of shape (n_components,)
        Current weights, on the simplex.
    max_backtrack : int, default=2
        Number of times an extrapolation that lowers the log-likelihood is
        retried with half the step length before falling back to EM. Each
        try costs one product with ``lik``; 2 was the fastest of 0, 2, 3, 4
        and 6 on the normal-means benchmark.

    Returns
    -------
    new_weights : ndarray of shape (n_components,)
        Weights after the cycle, on the simplex; their mean log-likelihood
        is at least that of ``weights``.
    log_lik : float
        Scaled mean log-likelihood of the incoming ``weights``.
    gap_bound : float
        ``log(max(g))`` at the incoming ``weights``, an upper bound on the
        optimality gap (see `em_step`).

    References
    ----------
    R. Varadhan and C. Roland, "Simple and globally convergent methods for
    accelerating the convergence of any EM algorithm", Scandinavian Journal
    of Statistics 35(2), 335-353, 2008.
    """
    x0 = np.asarray(weights, dtype=np.float64)
    x1, log_lik0, g0, mix0 = _em_map(lik, freq, x0)
    gap = float(np.log(g0.max()))
    top = int(np.argmax(g0))
    if x0[top] == 0 and g0[top] > 1:
        revived = _revive(lik, freq, x0, mix0, g0, top)
        return _em_map(lik, freq, revived)[0], log_lik0, gap

    x2 = _em_map(lik, freq, x1)[0]
    r = x1 - x0
    v = x2 - 2.0 * x1 + x0
    norm_r, norm_v = np.linalg.norm(r), np.linalg.norm(v)
    if not norm_v > 0:
        # No curvature in the EM sequence (a fixed point, or exactly linear
        # progress): there is nothing to extrapolate.
        return x2, log_lik0, gap

    alpha = -norm_r / norm_v
    for _ in range(max_backtrack + 1):
        if not alpha < -1.0:
            break
        extrapolated = x0 - 2.0 * alpha * r + alpha * alpha * v
        np.clip(extrapolated, 0.0, None, out=extrapolated)
        extrapolated /= extrapolated.sum()
        mix = lik @ extrapolated
        with np.errstate(divide="ignore"):
            improves = _log_lik(freq, mix) >= log_lik0
        if improves:
            stabilised, _, g_ext, _ = _em_map(lik, freq, extrapolated, mix)
            zeroed = (extrapolated == 0) & (x0 > 0)
            if not np.any(g_ext[zeroed] > 1):
                return stabilised, log_lik0, gap
        alpha /= 2.0
    return x2, log_lik0, gap


def low_rank_factor(lik, rtol=1e-10, random_state=0):
    """Low-rank factorisation ``lik ~ lik[:, columns] @ coef`` of the likelihoods.

    Columns of ``lik`` for neighbouring components are often nearly
    collinear (a fine grid of component scales, say), so ``lik`` is close to
    a matrix of small rank. With the factor, the Hessian of `sqp_step` costs
    ``O(n_rows rank^2)`` instead of ``O(n_rows n_components^2)``. `sqp_step`
    uses the factor only for the Hessian: gradients, objective values and
    the gap bound still use the exact ``lik``, so the certificate stays
    exact and only the quadratic model is approximate.

    The factor is an interpolative decomposition found on a random sketch
    (Halko, Martinsson & Tropp, 2011, section 5.2): a pivoted QR of
    ``G @ lik``, with ``G`` a small Gaussian matrix, picks ``rank`` columns
    that span the others and the coefficients that rebuild them. The sketch
    is doubled until it has at least 8 rows beyond the numerical rank. This
    takes one pass over ``lik`` per sketch, where a pivoted QR or an SVD of
    ``lik`` itself costs ``O(n_rows n_components^2)`` and, on the normal-means
    problem of ``benchmarks/solvers.py``, more than all the mix-SQP
    iterations it would speed up.

    Parameters
    ----------
    lik : ndarray of shape (n_rows, n_components)
        Component likelihoods, each row divided by its maximum.
    rtol : float, default=1e-10
        Pivots of the QR below ``rtol`` times the first end the factor.
    random_state : int, default=0
        Seed of the Gaussian sketch.

    Returns
    -------
    columns : ndarray of shape (rank,)
        Indices of the skeleton columns.
    coef : ndarray of shape (rank, n_components)
        Coefficients, with ``coef[:, columns]`` the identity, such that
        ``lik ~ lik[:, columns] @ coef``.
    """
    from scipy.linalg import qr, solve_triangular

    n_rows, n_components = lik.shape
    rng = np.random.default_rng(random_state)
    size = min(n_components, 32)
    while True:
        sketch = rng.standard_normal((size, n_rows)) @ lik
        _, tri, pivots = qr(sketch, mode="economic", pivoting=True)
        pivot_size = np.abs(np.diag(tri))
        rank = max(1, int(np.sum(pivot_size > rtol * pivot_size[0])))
        if rank + 8 <= size or size >= n_components:
            break
        size = min(n_components, 2 * size)
    coef = np.empty((rank, n_components))
    coef[:, pivots[:rank]] = np.eye(rank)
    coef[:, pivots[rank:]] = solve_triangular(tri[:rank, :rank], tri[:rank, rank:])
    return pivots[:rank].copy(), coef


def _nonnegative_qp(hess, root, lin, start, max_iter, tol):
    """Primal active-set method for ``min 1/2 y'Hy + lin'y`` over ``y >= 0``.

    The working set holds the coordinates fixed at zero; it starts as the
    zeros of ``start`` (a feasible point), which is how mix-SQP warm-starts
    the subproblem from the previous iterate's support. Each iteration solves
    the equality-constrained problem on the free coordinates: if the
    solution is nonnegative it is taken, and the fixed coordinate with the
    most negative Lagrange multiplier (the gradient ``H y + lin`` there) is
    released; otherwise the step stops at the first coordinate that reaches
    zero, which joins the working set (Nocedal & Wright, Numerical
    Optimization, Algorithm 16.3). The objective never increases, so a point
    returned after ``max_iter`` iterations still gives a descent direction.

    ``root`` is an upper-triangular ``C`` with ``H = C'C``. The free block
    ``H_FF = C_F' C_F`` is then factored through a QR factorisation of the
    columns ``C_F``, which is updated in ``O(n^2)`` when a column enters or
    leaves instead of refactoring ``H_FF`` in ``O(n^3)``: from a full support
    the method may drop one coordinate at a time for a hundred iterations.
    """
    from scipy.linalg import qr, qr_delete, qr_insert
    from scipy.linalg.lapack import dtrtrs

    y = start.copy()
    free = [int(k) for k in np.flatnonzero(y > 0)]
    q, r = qr(root[:, free])
    for _ in range(max_iter):
        n_free = len(free)
        idx = np.array(free, dtype=np.intp)
        if n_free:
            # H_FF = tri' tri: two triangular solves. The LAPACK routine is
            # called directly: the wrappers' checks would cost more than the
            # solves, which run up to a few hundred times per subproblem.
            tri = r[:n_free, :n_free]
            half = dtrtrs(tri, -lin[idx], trans=1)[0]
            target = dtrtrs(tri, half)[0]
        else:
            target = np.zeros(0)
        if n_free == 0 or target.min() >= 0:
            y[idx] = target
            fixed = np.flatnonzero(y <= 0)
            fixed = fixed[~np.isin(fixed, idx)]
            if fixed.size == 0:
                break
            multipliers = hess[np.ix_(fixed, idx)] @ target + lin[fixed]
            worst = int(np.argmin(multipliers))
            if multipliers[worst] >= -tol:
                break
            entering = int(fixed[worst])
            q, r = qr_insert(
                q, r, root[:, entering], n_free, which="col", check_finite=False
            )
            free.append(entering)
        else:
            current = y[idx]
            blocking = np.flatnonzero(target < 0)
            # Fraction of the way to ``target`` at which each blocking
            # coordinate reaches zero; ``current >= 0`` so it is in [0, 1).
            fractions = current[blocking] / (current[blocking] - target[blocking])
            step = fractions.min()
            moved = current + step * (target - current)
            # The first blocking coordinate leaves, and with it any that
            # rounding put at or below zero.
            leaving = moved <= 0
            leaving[blocking[np.argmin(fractions)]] = True
            moved[leaving] = 0.0
            y[idx] = moved
            for position in np.flatnonzero(leaving)[::-1]:
                q, r = qr_delete(q, r, int(position), which="col", check_finite=False)
                del free[position]
    return y


# Above this many components mix-SQP keeps its Hessian as a factor ``B``
# (``H = B'B + diagonal ridge``) when ``B`` has fewer rows than half the
# components, instead of forming the n_components square matrix: forming and
# factoring it cost O(n_rows K^2 + K^3), and on a fine grid of candidate
# components (10,000 Bernoulli components on 32 distinct binary rows) that
# is all the time and memory of the fit.
_FACTORED_MIN_COMPONENTS = 256
# With fewer distinct rows than half the components, B is the scaled
# likelihood matrix itself, at no cost: from this many components on.
_FACTORED_MIN_ROWS_COMPONENTS = 32


def _nonnegative_qp_factored(b, ridge_diag, lin, start, max_iter, tol, max_free):
    """`_nonnegative_qp` for ``H = B'B + diag(ridge_diag)``, never forming H.

    The same primal active-set method, with the products by ``H`` computed
    as ``B' (B y) + ridge_diag * y`` in ``O(rank n_components)`` and each
    equality-constrained subproblem solved by a Cholesky factorisation of
    the free block ``H_FF = B_F' B_F + diag(ridge_diag_F)`` only. The start
    is ``start`` when its support has at most ``max_free`` coordinates, and
    otherwise 0 (also feasible), from which coordinates enter one at a time:
    with ``H`` of low rank the solution has a small support, so the method
    never factors a large free block.
    """
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    support = np.flatnonzero(start > 0)
    if support.size <= max_free:
        y = start.copy()
        free = [int(k) for k in support]
    else:
        y = np.zeros_like(start)
        free = []
    for _ in range(max_iter):
        idx = np.array(free, dtype=np.intp)
        if idx.size:
            b_free = b[:, idx]
            block = b_free.T @ b_free
            block[np.diag_indices_from(block)] += ridge_diag[idx]
            target = None
            extra = 1e-12
            for _ in range(8):
                try:
                    factor = cho_factor(block, check_finite=False)
                    target = cho_solve(factor, -lin[idx], check_finite=False)
                    break
                except LinAlgError:
                    # Rounding made the block indefinite along (nearly)
                    # identical components: damp those directions more.
                    block[np.diag_indices_from(block)] *= 1.0 + extra
                    extra *= 100.0
            if target is None or not np.all(np.isfinite(target)):
                # The subproblem cannot be solved more precisely: y, feasible
                # and no worse than the start, is still a descent direction.
                break
        else:
            target = np.zeros(0)
        if idx.size == 0 or target.min() >= 0:
            y[idx] = target
            multipliers = b.T @ (b[:, idx] @ target) + ridge_diag * y + lin
            multipliers[idx] = np.inf
            multipliers[y > 0] = np.inf
            worst = int(np.argmin(multipliers))
            if not multipliers[worst] < -tol:
                break
            free.append(worst)
        else:
            current = y[idx]
            blocking = np.flatnonzero(target < 0)
            fractions = current[blocking] / (current[blocking] - target[blocking])
            step = fractions.min()
            moved = current + step * (target - current)
            leaving = moved <= 0
            leaving[blocking[np.argmin(fractions)]] = True
            moved[leaving] = 0.0
            y[idx] = moved
            free = [k for k, out in zip(free, leaving) if not out]
    return y


def _hessian_factor(lik, scale, factor, n_components):
    """A factor ``B`` with ``B'B`` the Hessian of `sqp_step`, or None.

    ``B`` is ``diag(scale) lik`` on the rows that count, or with a low-rank
    ``factor`` ``(columns, coef)`` the ``rank x n_components`` matrix
    ``R coef``, with ``R`` the triangular factor of a QR factorisation of the
    scaled skeleton columns (so ``R'R`` is their Gram matrix).
    Without a factor and with many rows, one is computed here by
    `low_rank_factor` when that makes ``B`` short. None when ``B`` would
    not have fewer rows than half the components, or when there are too
    few components for the dense Hessian to cost much.
    """
    seen = scale > 0
    n_seen = int(np.count_nonzero(seen))
    if factor is None and 2 * n_seen < n_components:
        if n_components < _FACTORED_MIN_ROWS_COMPONENTS:
            return None
        return lik[seen] * scale[seen, None]
    if n_components < _FACTORED_MIN_COMPONENTS:
        return None
    if factor is None:
        columns, coef = low_rank_factor(lik[seen])
        if 2 * columns.size >= n_components:
            return None
        factor = (columns, coef)
    columns, coef = factor
    if 2 * columns.size >= n_components:
        return None
    # a = Q R gives a'a = R'R, so B = R coef: H ~ coef' a'a coef = B'B.
    a = lik[seen][:, columns] * scale[seen, None]
    return np.linalg.qr(a, mode="r") @ coef


def _dense_qp_point(hess, grad, w, ridge, max_active_set_iter, active_set_tol):
    """The minimiser over ``y >= 0`` of mix-SQP's quadratic model at ``w``.

    ``hess`` (modified in place) gets a ridge relative to each diagonal
    entry, so that it does not depend on the scale of the components; the
    floor keeps a column of zeros (a component no row can come from) from
    making it singular.
    """
    from scipy.linalg import LinAlgError, cholesky

    diag = np.diag(hess).copy()
    ridge_diag = np.maximum(diag, 1e-6 * diag.max())
    while True:
        hess[np.diag_indices_from(hess)] += ridge * ridge_diag
        try:
            root = cholesky(hess, check_finite=False)
            break
        except LinAlgError:
            # Rounding left H indefinite along (near-)identical components:
            # a larger ridge only damps the model along those directions.
            hess[np.diag_indices_from(hess)] = diag
            ridge *= 100.0
    # The model is grad'(y - w) + 1/2 (y - w)' H (y - w); over y it has the
    # linear term grad - H w (with exact H, H w = g and this is 1 - 2 g).
    lin = grad - hess @ w
    return _nonnegative_qp(hess, root, lin, w, max_active_set_iter, active_set_tol)


def sqp_step_reduced(
    source,
    x,
    *,
    ridge=1e-10,
    active_set_tol=1e-10,
    max_active_set_iter=None,
    sufficient_decrease=0.01,
    step_reduction=0.75,
    min_step=1e-10,
    min_row_ratio=0.1,
):
    """One mix-SQP iteration on rows reachable only through reductions.

    The iteration of :func:`sqp_step` (dense Hessian) for data that are
    never gathered, e.g. the chunks of a Dask array. ``source.stats(w,
    hessian=True)`` gives the sums over the rows of the gradient factor
    ``g``, the Hessian ``h``, the log-likelihood (``log_lik``, and
    ``scaled`` without the row maxima) and the weight; ``source.line_values(w,
    p, steps)`` gives ``values[j] = sum_i s_i log1p(steps[j] (lik_i @ p) /
    mix_i)`` and ``max_neg`` = ``max_i -(lik_i @ p) / mix_i``. The line
    search evaluates the same candidate steps as :func:`sqp_step`, a few
    at a time, so that from the same point both take the same step.
    Returns ``(new_x, log_lik, gap_bound)`` like :func:`sqp_step` (the
    log-likelihood with the row maxima, as the data's own).
    """
    x = np.asarray(x, dtype=np.float64)
    n_components = x.shape[0]
    w = x / x.sum()
    stats = source.stats(w, hessian=True)
    total_weight = stats.weight
    g = stats["g"] / total_weight
    hess = stats["h"] / total_weight
    log_lik = stats.log_lik / total_weight
    scaled = stats["scaled"] / total_weight
    gap = float(np.log(g.max()))
    grad = 1.0 - g
    if max_active_set_iter is None:
        max_active_set_iter = 3 * n_components + 10
    y = _dense_qp_point(hess, grad, w, ridge, max_active_set_iter, active_set_tol)
    direction = y - w
    slope = float(grad @ direction)
    if not slope < 0:
        return w, log_lik, gap
    total = float(direction.sum())
    first = source.line_values(w, direction, np.array([1.0]))
    step = 1.0
    worst = -float(first["max_neg"])
    if worst < 0:
        step = min(1.0, (1.0 - min_row_ratio) / -worst)
    pending = [] if step < 1.0 else [float(first["values"][0])]
    while step >= min_step:
        if not pending:
            # The next steps, by the same successive products as sqp_step.
            ladder = [step]
            for _ in range(7):
                ladder.append(ladder[-1] * step_reduction)
            values = source.line_values(w, direction, np.array(ladder))["values"]
            pending = [float(v) for v in values]
        change = -pending.pop(0) / total_weight + step * total
        if change <= sufficient_decrease * step * slope:
            new_x = y if step == 1.0 else w + step * direction
            return new_x, log_lik, gap
        step *= step_reduction
        if -step * slope < 1e-15 * (1.0 + abs(scaled)):
            break
    return w, log_lik, gap


def sqp_step(
    lik,
    freq,
    x,
    factor=None,
    *,
    ridge=1e-10,
    active_set_tol=1e-10,
    max_active_set_iter=None,
    sufficient_decrease=0.01,
    step_reduction=0.75,
    min_step=1e-10,
    min_row_ratio=0.1,
):
    """One iteration of mix-SQP on the mixing weights.

    mix-SQP (Kim, Carbonetto, Stephens & Anitescu, 2020) minimises
    ``f(x) = -sum_i freq_i log((lik @ x)_i) + sum(x)`` over ``x >= 0``, a
    problem whose solution lies on the simplex and maximises the mean
    log-likelihood there; dropping the equality constraint leaves only
    bounds, which an active-set method handles exactly. Each iteration:

    1. normalises ``x`` to ``w = x / sum(x)`` (this never increases ``f``,
       and it makes the log-likelihood of the iterates non-decreasing);
    2. forms the exact gradient ``1 - lik.T @ d``, ``d = freq / (lik @ w)``,
       and the Hessian ``lik.T @ diag(freq / (lik @ w)^2) @ lik`` (from the
       low-rank ``factor`` if given), with a tiny ridge;
    3. solves the quadratic model over ``y >= 0`` by a primal active-set
       method warm-started from the support of ``w``, which gives exact
       zeros;
    4. backtracks along ``y - w`` until the Armijo condition holds, starting
       from the full step unless that would cut some row's mixture
       likelihood to less than ``min_row_ratio`` of its current value.

    Parameters
    ----------
    lik : ndarray of shape (n_rows, n_components)
        Component likelihoods, each row divided by its maximum.
    freq : ndarray of shape (n_rows,)
        Row frequencies summing to one.
    x : ndarray of shape (n_components,)
        Current nonnegative iterate, with a positive sum; it need not be
        normalised.
    factor : tuple of ndarray or None, default=None
        ``(columns, coef)`` from `low_rank_factor`, used to form the Hessian
        in ``O(n_rows rank^2)``. The gradient, the line search and the gap
        bound always use the exact ``lik``.
    ridge : float, default=1e-10
        Relative ridge added to the Hessian's diagonal (scaled by the
        diagonal itself), so that the subproblem stays strictly convex when
        components are identical or nearly collinear.
    active_set_tol : float, default=1e-10
        A coordinate at zero is released when its Lagrange multiplier is
        below ``-active_set_tol``.
    max_active_set_iter : int or None, default=None
        Cap on the active-set iterations; ``None`` means
        ``3 * n_components + 10``. A capped solution is still a descent
        direction.
    sufficient_decrease : float, default=0.01
        Armijo constant of the line search.
    step_reduction : float, default=0.75
        Factor by which the line search shortens the step.
    min_step : float, default=1e-10
        Shortest step the line search tries before giving up (and returning
        the normalised incoming point).
    min_row_ratio : float, default=0.1
        The line search starts at the longest step (at most 1) along which
        every row keeps at least this fraction of its mixture likelihood.
        As ``lik @ y >= 0`` the start is never below ``1 - min_row_ratio``;
        it is below 1 only when the full step would take (nearly) all the
        weight from some row's components. 0 gives the paper's line search.

    Returns
    -------
    new_x : ndarray of shape (n_components,)
        The next iterate, nonnegative with exact zeros, close to but not
        exactly on the simplex: normalise it when stopping. Its normalised
        mean log-likelihood is at least that of the incoming point.
    log_lik : float
        Scaled mean log-likelihood of ``x / sum(x)``.
    gap_bound : float
        ``log(max(g))`` at ``x / sum(x)``, an upper bound on the optimality
        gap (see `em_step`).

    Notes
    -----
    From uniform weights, the full steps of the paper drop components that
    a few outlying rows still need; the Newton steps on ``-log(mix_i)`` then
    only double those rows' likelihood per iteration, and the normal-means
    problem of ``benchmarks/solvers.py`` took 32 to 87 iterations instead
    of 9 with ``min_row_ratio=0.1``. The authors' R package instead starts
    with 10 EM iterations; a caller may do the same with `em_step`, which
    brings mix-SQP down to 5 or 6 iterations there.

    References
    ----------
    Y. Kim, P. Carbonetto, M. Stephens and M. Anitescu, "A fast algorithm for
    maximum likelihood estimation of mixture proportions using sequential
    quadratic programming", Journal of Computational and Graphical
    Statistics 29(2), 261-273, 2020.
    """
    x = np.asarray(x, dtype=np.float64)
    n_components = x.shape[0]
    w = x / x.sum()
    mix = lik @ w
    with np.errstate(divide="ignore", invalid="ignore"):
        log_lik = _log_lik(freq, mix)
        ratio = _ratio(freq, mix)
    g = lik.T @ ratio
    gap = float(np.log(g.max()))
    grad = 1.0 - g

    # Hessian of f at w: A'A with A = diag(sqrt(freq) / mix) lik, computed as
    # one symmetric product (numpy hands A.T @ A to BLAS syrk).
    with np.errstate(divide="ignore"):
        inv_mix = 1.0 / mix
    if freq.min() <= 0:
        # Rows of zero frequency may have zero likelihood; they count nowhere.
        inv_mix[freq <= 0] = 0.0
    scale = np.sqrt(freq) * inv_mix
    if max_active_set_iter is None:
        max_active_set_iter = 3 * n_components + 10
    b = _hessian_factor(lik, scale, factor, n_components)
    if b is not None:
        # Many components and a Hessian of low rank: keep it as B'B.
        diag = np.einsum("ij,ij->j", b, b)
        ridge_diag = ridge * np.maximum(diag, 1e-6 * diag.max())
        lin = grad - (b.T @ (b @ w) + ridge_diag * w)
        y = _nonnegative_qp_factored(
            b,
            ridge_diag,
            lin,
            w,
            max_active_set_iter,
            active_set_tol,
            max_free=2 * b.shape[0] + 10,
        )
        return _sqp_line_search(
            lik,
            freq,
            w,
            y,
            grad,
            inv_mix,
            log_lik,
            gap,
            sufficient_decrease,
            step_reduction,
            min_step,
            min_row_ratio,
        )
    if factor is None:
        a = lik * scale[:, None]
        hess = a.T @ a
    else:
        columns, coef = factor
        a = lik[:, columns] * scale[:, None]
        hess = coef.T @ (a.T @ a) @ coef
    y = _dense_qp_point(hess, grad, w, ridge, max_active_set_iter, active_set_tol)
    return _sqp_line_search(
        lik,
        freq,
        w,
        y,
        grad,
        inv_mix,
        log_lik,
        gap,
        sufficient_decrease,
        step_reduction,
        min_step,
        min_row_ratio,
    )


def _sqp_line_search(
    lik,
    freq,
    w,
    y,
    grad,
    inv_mix,
    log_lik,
    gap,
    sufficient_decrease,
    step_reduction,
    min_step,
    min_row_ratio,
):
    """Backtracking line search of `sqp_step` from ``w`` towards ``y``."""
    direction = y - w
    slope = float(grad @ direction)
    if not slope < 0:
        # The model finds no descent direction: w is optimal to the
        # precision of the subproblem.
        return w, log_lik, gap

    # f(w + t p) - f(w) = -sum_i freq_i log1p(t (lik p)_i / mix_i) + t sum(p),
    # evaluated without cancellation, so the search works down to rounding.
    relative = inv_mix * (lik @ direction)
    total = float(direction.sum())
    step = 1.0
    # Start no further than where some row's mixture likelihood falls to
    # min_row_ratio of its current value: far from the optimum, a full step
    # of the quadratic model may drop a component that a few rows still
    # depend on, and Newton steps on -log(mix_i) then only double mix_i per
    # iteration to bring it back.
    worst = relative.min()
    if worst < 0:
        step = min(1.0, (1.0 - min_row_ratio) / -worst)
    while step >= min_step:
        with np.errstate(divide="ignore", invalid="ignore"):
            change = -float(freq @ np.log1p(step * relative)) + step * total
        if change <= sufficient_decrease * step * slope:
            # A full step lands exactly on y, keeping its exact zeros.
            new_x = y if step == 1.0 else w + step * direction
            return new_x, log_lik, gap
        step *= step_reduction
        if -step * slope < 1e-15 * (1.0 + abs(log_lik)):
            # The decrease asked for is below the rounding of f: w is as
            # good as this model can make it.
            break
    return w, log_lik, gap
