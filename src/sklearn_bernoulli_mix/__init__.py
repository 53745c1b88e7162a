"""Mixtures of Bernoulli and other known distributions for scikit-learn."""

from ._bernoulli import BernoulliMixture
from ._fixed import FixedComponentMixture
from ._validation import InvalidParameterError, NonIdentifiableWarning

__version__ = "0.1.0"

__all__ = [
    "BernoulliMixture",
    "FixedComponentMixture",
    "InvalidParameterError",
    "NonIdentifiableWarning",
    "__version__",
]
