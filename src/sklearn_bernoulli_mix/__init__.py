"""Mixtures of Bernoulli and other known distributions for scikit-learn."""

import importlib

__version__ = "0.1.0"

# Public names and the module that defines each. They are imported on first
# use (PEP 562), so that ``python -m sklearn_bernoulli_mix --help`` answers
# without importing scikit-learn.
_PUBLIC = {
    "BernoulliMixture": "._bernoulli",
    "CategoricalMixture": "._categorical",
    "FixedComponentMixture": "._fixed",
    "InvalidParameterError": "._validation",
    "LabelShiftAdapter": "._label_shift",
    "NonIdentifiableWarning": "._validation",
    "bernoulli_standard_errors": "._inference",
    "categorical_standard_errors": "._inference",
    "standard_errors": "._inference",
    "bivariate_residuals": "._selection",
    "bootstrap_lrt": "._selection",
    "plot_criteria": "._selection",
    "select_n_components": "._selection",
    "summary": "._selection",
    "summary_frames": "._selection",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
