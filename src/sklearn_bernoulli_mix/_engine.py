"""The execution seam: data that a family's block functions are run over.

A *family* (``BernoulliFamily``, ``CategoricalFamily``) knows one kind of
component distribution and turns a block of rows into :class:`Stats`. A
*data* object knows where the rows are and how to run a block function over
all of them; the fit loop only ever asks it for a total:

- :class:`InMemoryData` (here): an array or sparse matrix in memory, run
  block by block in this process;
- ``DaskData`` (``_dask.py``): a row-chunked Dask array, each chunk run on
  a worker and the statistics added in a tree;
- a mini-batch of ``partial_fit`` is an :class:`InMemoryData` whose totals
  the stepwise average of ``_online.py`` combines.

Every data object offers the same three calls:

``total(family, prepared)``
    Sum over the rows of ``family.block_stats`` under the prepared
    parameters (with the log-likelihood and the total weight).
``scan(scan_block)``
    Sum over the rows of ``scan_block(X_block, sample_weight_block)``, for
    what a family must learn from the data once per fit (missing values,
    the number of categories).
``init_rows(size, random_state)``
    ``(X, sample_weight)`` in memory for an initialisation: every row in
    memory, a random sample of ``size`` rows on Dask.
"""

import numpy as np

from ._blocks import add_stats, row_blocks


class InMemoryData:
    """Rows held in memory, with their sample weights.

    Parameters
    ----------
    X : ndarray or sparse matrix
        Validated rows in the computation dtype (or an integer dtype a
        family reads as it is).
    sample_weight : ndarray of shape (n_samples,)
        Validated frequency weights (float64).
    has_missing : bool, default=True
        Whether X may hold NaN (False skips the scans for it).
    """

    #: The Array API namespace of the rows (``_xp.XPData``); None: NumPy.
    xp = None

    def __init__(self, X, sample_weight, *, has_missing=True):
        self.X = X
        self.sample_weight = sample_weight
        self.has_missing = has_missing
        self.n_samples, self.n_features = X.shape
        self.dtype = X.dtype
        if sample_weight.ndim == 1 and sample_weight.strides == (0,):
            self.unit_weight = bool(
                sample_weight.shape[0] == 0 or sample_weight[0] == 1
            )
        else:
            self.unit_weight = bool(np.all(sample_weight == 1))

    def total(self, family, prepared):
        """Statistics of every row under ``prepared`` parameters."""
        X, sw = self.X, self.sample_weight
        whole = getattr(family, "whole_stats", None)
        if whole is not None:
            stats = whole(
                X,
                sw,
                prepared,
                has_missing=self.has_missing,
                unit_weight=self.unit_weight,
            )
            if stats is not None:
                return stats
        parts = [
            family.block_stats(
                X[rows],
                sw[rows],
                prepared,
                has_missing=self.has_missing,
                unit_weight=self.unit_weight,
            )
            for rows in row_blocks(X, prepared.n_components)
        ]
        return add_stats(*parts)

    def scan(self, scan_block):
        """Sum of ``scan_block(X_block, weight_block)`` over the rows."""
        return add_stats(
            *(
                scan_block(self.X[rows], self.sample_weight[rows])
                for rows in row_blocks(self.X)
            )
        )

    def init_rows(self, size, random_state):
        """Every row: in memory, the initialisation subsamples by itself."""
        return self.X, self.sample_weight
