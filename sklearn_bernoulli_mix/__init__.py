"""Mixtures of Bernoulli and other known distributions for scikit-learn."""

from ._bernoulli import BernoulliMixture
from ._fixed import FixedComponentMixture
from ._label_shift import LabelShiftAdapter
from ._validation import InvalidParameterError, NonIdentifiableWarning

__version__ = "0.1.0"

__all__ = [
    "BernoulliMixture",
    "FixedComponentMixture",
    "InvalidParameterError",
    "LabelShiftAdapter",
    "NonIdentifiableWarning",
    "__version__",
]
