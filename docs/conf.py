"""Sphinx configuration for the sklearn_bernoulli_mix documentation."""

import os

import sklearn_bernoulli_mix

project = "sklearn_bernoulli_mix"
author = "The sklearn_bernoulli_mix developers"
copyright = "2026, " + author
version = release = sklearn_bernoulli_mix.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
]

autosummary_generate = True
numpydoc_show_class_members = False
templates_path = ["_templates"]
exclude_patterns = ["_build"]
html_theme = "pydata_sphinx_theme"

# Cross-links to the projects we build on need the network; set
# SPHINX_OFFLINE=1 to build without them.
if os.environ.get("SPHINX_OFFLINE"):
    intersphinx_mapping = {}
else:
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }
