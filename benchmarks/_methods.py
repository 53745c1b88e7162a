"""The methods the benchmark fits: ours, the numpy floor and the peers.

Each method is ``prepare(X) -> X_in`` (turning the cached data set into the
input the method is given, done before memory is measured and never timed)
and ``fit(X_in, weights_init, means_init, n_iter) -> (weights, means, info)``,
a fit of exactly ``n_iter`` EM iterations from the given start with every
convergence test switched off.
"""

import warnings

import numpy as np
import scipy.sparse as sp

EPS64 = float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------
# ours


def ours_fit(X, weights, means, n_iter):
    from sklearn_bernoulli_mix import BernoulliMixture

    est = BernoulliMixture(
        n_components=len(weights),
        weights_init=weights,
        means_init=means,
        tol=0,
        alpha=0,
        binarize=None,
        max_iter=n_iter,
        n_init=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X)
    if est.n_iter_ != n_iter:
        raise RuntimeError(f"BernoulliMixture ran {est.n_iter_} != {n_iter} iterations")
    return est.weights_, est.means_, {}


# --------------------------------------------------------------------------
# the floor: plain numpy EM, whole-array, no blocking


def _floor_params(weights, means, dtype):
    means = np.clip(means, EPS64, 1 - EPS64)
    log_p, log_q = np.log(means), np.log1p(-means)
    with np.errstate(divide="ignore"):
        log_w = np.log(weights)
    odds_t = np.ascontiguousarray((log_p - log_q).T, dtype=dtype)
    return odds_t, log_q, log_w


def _floor_normalize(L):
    """Row log-sum-exp in place: L becomes the responsibilities."""
    mx = L.max(axis=1, keepdims=True)
    L -= mx
    np.exp(L, out=L)
    s = L.sum(axis=1, keepdims=True)
    L /= s
    return float((np.log(s) + mx).sum())


def floor_fit(X, weights, means, n_iter):
    """E-step: X @ log-odds + bias, row log-sum-exp; M-step: resp.T @ X.

    Works for a dense X (in its own dtype) and a CSR X alike.
    """
    dtype = X.dtype
    n = X.shape[0]
    weights = np.asarray(weights, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    for _ in range(n_iter):
        odds_t, log_q, log_w = _floor_params(weights, means, dtype)
        L = np.asarray(X @ odds_t)
        L += (log_w + log_q.sum(axis=1)).astype(dtype)
        _floor_normalize(L)
        nk = L.sum(axis=0, dtype=np.float64)
        if sp.issparse(X):
            xk = np.asarray(X.T @ L).T
        else:
            xk = L.T @ X
        weights = nk / n
        means = np.clip(xk / nk[:, None], EPS64, 1 - EPS64)
    return weights, means, {}


def floor_missing_fit(X, weights, means, n_iter):
    """The floor with a mask: NaN entries skipped in both steps."""
    dtype = X.dtype
    n = X.shape[0]
    observed = ~np.isnan(X)
    filled = np.where(observed, X, 0).astype(dtype)
    observed = observed.astype(dtype)
    weights = np.asarray(weights, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    for _ in range(n_iter):
        odds_t, log_q, log_w = _floor_params(weights, means, dtype)
        L = filled @ odds_t
        L += observed @ log_q.T.astype(dtype)
        L += log_w.astype(dtype)
        _floor_normalize(L)
        nk = L.sum(axis=0, dtype=np.float64)
        xk = L.T @ filled
        seen = L.T @ observed
        weights = nk / n
        means = np.clip(xk / np.maximum(seen, 1e-300), EPS64, 1 - EPS64)
    return weights, means, {}


# --------------------------------------------------------------------------
# StepMix


def stepmix_fit(X, weights, means, n_iter, measurement="bernoulli"):
    from stepmix.stepmix import StepMix

    class StepMixFromStart(StepMix):
        """StepMix whose start is the given weights and means.

        StepMix has no weights_init/means_init; its own initialisation
        (random or k-means responsibilities, then one M-step) is replaced by
        setting the parameters directly.
        """

        def _initialize_parameters(self, X, random_state):
            self.weights_ = np.array(weights, dtype=np.float64)
            self._initialize_parameters_measurement(
                X, random_state, init_emission=False
            )
            self._mm.set_parameters({"pis": np.array(means, dtype=np.float64)})

    est = StepMixFromStart(
        n_components=len(weights),
        measurement=measurement,
        n_steps=1,
        abs_tol=0.0,
        rel_tol=0.0,
        max_iter=n_iter,
        n_init=1,
        progress_bar=0,
        verbose=0,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X)
    if est.n_iter_ != n_iter:
        raise RuntimeError(f"StepMix ran {est.n_iter_} != {n_iter} iterations")
    return est.weights_, est._mm.parameters["pis"], {}


def stepmix_nan_fit(X, weights, means, n_iter):
    return stepmix_fit(X, weights, means, n_iter, measurement="bernoulli_nan")


# --------------------------------------------------------------------------
# pomegranate


def pomegranate_prepare(X):
    import torch

    return torch.from_numpy(np.ascontiguousarray(to_dense64(X)))


def _pomegranate_fit(X, weights, means, n_iter, clamp):
    import torch
    from pomegranate._utils import _update_parameter, eps
    from pomegranate.distributions import Bernoulli
    from pomegranate.gmm import GeneralMixtureModel

    class ClampedBernoulli(Bernoulli):
        """Bernoulli whose M-step keeps probabilities inside [eps, 1 - eps]."""

        def from_summaries(self):
            if self.frozen:
                return
            probs = (self._xw_sum / self._w_sum).clamp(eps, 1 - eps)
            _update_parameter(self.probs, probs, self.inertia)
            self._reset_cache()

    cls = ClampedBernoulli if clamp else Bernoulli
    dists = [cls(probs=torch.tensor(row, dtype=torch.float64)) for row in means]
    priors = torch.tensor(np.asarray(weights) / np.sum(weights), dtype=torch.float64)
    model = GeneralMixtureModel(
        dists, priors=priors, max_iter=n_iter, tol=-np.inf, random_state=0
    )
    model.fit(X)
    w = model.priors.detach().cpu().numpy().astype(np.float64)
    m = np.stack([d.probs.detach().cpu().numpy() for d in model.distributions])
    return w, m.astype(np.float64), {}


def pomegranate_fit(X, weights, means, n_iter):
    return _pomegranate_fit(X, weights, means, n_iter, clamp=False)


def pomegranate_clamped_fit(X, weights, means, n_iter):
    return _pomegranate_fit(X, weights, means, n_iter, clamp=True)


# --------------------------------------------------------------------------
# scikit-learn's GaussianMixture (the API reference, a different model)


def gmm_fit(X, weights, means, n_iter):
    from sklearn.mixture import GaussianMixture

    # Starting variances of the (0/1) columns, without an n x d temporary.
    mu = np.asarray(X.mean(axis=0), dtype=np.float64)
    var = mu * (1 - mu)
    precisions = np.tile(1.0 / (var + 1e-6), (len(weights), 1))
    est = GaussianMixture(
        n_components=len(weights),
        covariance_type="diag",
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
        init_params="random_from_data",
        tol=0,
        max_iter=n_iter,
        n_init=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X)
    if est.n_iter_ != n_iter:
        raise RuntimeError(f"GaussianMixture ran {est.n_iter_} != {n_iter} iterations")
    return est.weights_, est.means_, {"estimator": est}


# --------------------------------------------------------------------------


def to_dense64(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)


def to_dense32(X):
    return (X.toarray() if sp.issparse(X) else X).astype(np.float32)


def to_uint8(X):
    return np.asarray(X).astype(np.uint8)


def to_csr32(X):
    return X.astype(np.float32)


def identity(X):
    return X


# name -> (label, prepare, fit, kind); kind: "ours", "floor", "peer", "reference"
METHODS = {
    "ours-f64": ("BernoulliMixture float64", identity, ours_fit, "ours"),
    "ours-f32": ("BernoulliMixture float32", to_dense32, ours_fit, "ours"),
    "ours-u8": ("BernoulliMixture uint8", to_uint8, ours_fit, "ours"),
    "ours-csr-f64": ("BernoulliMixture CSR float64", identity, ours_fit, "ours"),
    "ours-csr-f32": ("BernoulliMixture CSR float32", to_csr32, ours_fit, "ours"),
    "floor-f64": ("numpy floor float64", identity, floor_fit, "floor"),
    "floor-f32": ("numpy floor float32", to_dense32, floor_fit, "floor"),
    "floor-csr-f64": ("numpy floor CSR float64", identity, floor_fit, "floor"),
    "floor-mask-f64": (
        "numpy floor + mask float64",
        identity,
        floor_missing_fit,
        "floor",
    ),
    "stepmix": ("StepMix bernoulli", to_dense64, stepmix_fit, "peer"),
    "stepmix-nan": ("StepMix bernoulli_nan", to_dense64, stepmix_nan_fit, "peer"),
    "pomegranate": (
        "pomegranate GMM[Bernoulli]",
        pomegranate_prepare,
        pomegranate_fit,
        "peer",
    ),
    "pomegranate-clamped": (
        "pomegranate, clamped probs",
        pomegranate_prepare,
        pomegranate_clamped_fit,
        "peer",
    ),
    "gmm-diag": ("sklearn GaussianMixture diag", to_dense64, gmm_fit, "reference"),
}
