"""Time per EM iteration of BernoulliMixture for two builds side by side.

Usage::

    python benchmarks/before_after.py [SOURCE_DIR ...]

Each argument is a folder to put first on ``sys.path`` (e.g. a checkout of
an older commit whose package sits at its root); ``installed`` measures the
installed package. Every build fits the same data (100,000 x 100 binary,
K = 10, dense float64, float32, and float64 with 5% missing) from the same
start, with one BLAS thread; the time per iteration is (12 iterations - 2
iterations) / 10, best of 3. Each build runs in its own process.
"""

import subprocess
import sys

CASES = [("float64", "full"), ("float32", "full"), ("float64", "miss")]

CHILD = r"""
import sys, time, warnings
source, dtype, kind = sys.argv[1:4]
if source != "installed":
    sys.path.insert(0, source)
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn_bernoulli_mix import BernoulliMixture

rng = np.random.RandomState(0)
K, d, n = 10, 100, 100_000
means = rng.uniform(0.05, 0.95, (K, d))
z = rng.randint(K, size=n)
X = (rng.random_sample((n, d)) < means[z]).astype(dtype)
if kind == "miss":
    X[rng.random_sample(X.shape) < 0.05] = np.nan
w0, m0 = np.full(K, 1 / K), rng.uniform(0.3, 0.7, (K, d))


def fit(n_iter):
    kw = dict(means_init=m0, weights_init=w0, tol=0, max_iter=n_iter, binarize=None)
    if "se_method" in BernoulliMixture().get_params():
        kw["se_method"] = None
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        BernoulliMixture(K, **kw).fit(X)
    return time.perf_counter() - start


with threadpool_limits(1):
    fit(2)
    best = min((fit(12) - fit(2)) / 10 for _ in range(3))
print(f"{1000 * best:.1f}")
"""


def main(sources):
    sources = sources or ["installed"]
    print(f"{'build':<30} {'dtype':>8} {'data':>5}  ms/iteration")
    for dtype, kind in CASES:
        for source in sources:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, source, dtype, kind],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            print(f"{source:<30} {dtype:>8} {kind:>5}  {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
