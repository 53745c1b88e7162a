"""Wall-clock time of one pass of the compiled kernel with 1 and 2 threads.

Usage::

    python benchmarks/kernel_threads.py

Times ``_fast.bernoulli_stats`` on a 200,000 x 100 binary X with 10
components, in uint8, float64 and float32, best of 15 calls per thread
count.
"""

import time

import numpy as np

from sklearn_bernoulli_mix import _blocks, _fast


def main():
    rng = np.random.default_rng(0)
    n, d, k = 200_000, 100, 10
    X = (rng.random((n, d)) < 0.3).astype(np.uint8)
    means = rng.uniform(0.05, 0.95, (k, d))
    weights = np.full(k, 1 / k)
    p64 = _blocks.BernoulliParams(weights, means, np.float64)
    p32 = _blocks.BernoulliParams(weights, means, np.float32)
    cases = [
        ("uint8", X, p64),
        ("float64", X.astype(np.float64), p64),
        ("float32", X.astype(np.float32), p32),
    ]
    print(f"kernel built: {_fast.HAVE_KERNEL}")
    for name, Xc, p in cases:
        best = {}
        for _ in range(3):
            for threads in (1, 2):
                for _ in range(5):
                    t0 = time.perf_counter()
                    _fast.bernoulli_stats(
                        Xc, p.log_odds_t, p.bias, p.log_q, None, False, threads
                    )
                    t = time.perf_counter() - t0
                    best[threads] = min(best.get(threads, np.inf), t)
        print(
            f"{name}: 1 thread {best[1] * 1e3:.1f} ms, 2 threads "
            f"{best[2] * 1e3:.1f} ms, speed-up {best[1] / best[2]:.2f}x"
        )


if __name__ == "__main__":
    main()
