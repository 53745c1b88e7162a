"""Mixtures of Bernoulli and other known distributions for scikit-learn."""

from ._bernoulli import BernoulliMixture
from ._fixed import FixedComponentMixture
from ._inference import (
    bernoulli_standard_errors,
    categorical_standard_errors,
    standard_errors,
)
from ._selection import (
    LatentClassCriteriaMixin,
    bivariate_residuals,
    bootstrap_lrt,
    plot_criteria,
    select_n_components,
    summary,
    summary_frames,
)
from ._validation import InvalidParameterError, NonIdentifiableWarning

__version__ = "0.1.0"

__all__ = [
    "BernoulliMixture",
    "FixedComponentMixture",
    "InvalidParameterError",
    "LatentClassCriteriaMixin",
    "NonIdentifiableWarning",
    "__version__",
    "bernoulli_standard_errors",
    "bivariate_residuals",
    "bootstrap_lrt",
    "categorical_standard_errors",
    "plot_criteria",
    "select_n_components",
    "standard_errors",
    "summary",
    "summary_frames",
]
