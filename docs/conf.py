"""Sphinx configuration for the sklearn_bernoulli_mix documentation."""

import os
import sys
from pathlib import Path

import sklearn_bernoulli_mix

# Local helpers (the gallery's reading order) live next to this file.
sys.path.insert(0, str(Path(__file__).parent / "_sphinxext"))

import offline_maths  # noqa: E402

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
    "sphinx_gallery.gen_gallery",
]

# MathJax is served from the built site, never from a CDN, so that the maths
# renders offline: the docs extra installs sphinx-mathjax-offline, whose copy
# of MathJax 3 goes into _static/mathjax. Without it the pages would load a
# MathJax that is not there, and the build-finished check in setup() below
# fails the build (as it does for any page that loads MathJax from a URL).
_mathjax_static = offline_maths.mathjax_static_dir()
html_static_path = [] if _mathjax_static is None else [str(_mathjax_static)]
mathjax_path = offline_maths.MATHJAX_PATH

templates_path = ["_templates"]
exclude_patterns = ["_build", "**/GALLERY_HEADER.rst"]
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_bernoulli_mix {version}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

# -- API reference ------------------------------------------------------------
autosummary_generate = True
# numpydoc writes the parameter and attribute tables; the class template in
# _templates/autosummary/class.rst lists and documents the methods itself.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- Gallery ------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # Story order rather than alphabetical: see _sphinxext/gallery_order.py.
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("sklearn_bernoulli_mix",),
    "backreferences_dir": "gen_modules/backreferences",
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 1,
    # The per-example times are on each example's page; the summary page
    # would be written into the source tree, outside the ignored folders.
    "write_computation_times": False,
}

# -- Cross-references ---------------------------------------------------------
# Cross-links to the projects we build on need the network; set
# SPHINX_OFFLINE=1 to build without them.
nitpicky = True
if os.environ.get("SPHINX_OFFLINE"):
    intersphinx_mapping = {}
    # Without the other projects' inventories their names cannot resolve;
    # that is expected offline, so those (and only those) are not warned
    # about. Online, intersphinx resolves them and every miss is an error.
    nitpick_ignore_regex = [
        (
            r"py:.*",
            r"(numpy|scipy|sklearn|matplotlib|pandas|dask|distributed|zarr|h5py)(\..*)?",
        ),
        (r"py:.*", r"(ValueError|TypeError|UserWarning|Warning|Exception|pickle)"),
        (r"py:.*", r"(callable|dict|list|tuple|str|int|float|bool|object)"),
        (r"std:term", r".*"),
        (r"std:ref", r"(metadata_routing|sphx_glr_.*sklearn.*)"),
    ]
else:
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
        "dask": ("https://docs.dask.org/en/stable", None),
    }


def setup(app):
    """Fail the build when a page's maths would need the network."""
    app.connect("build-finished", offline_maths.check_offline_maths)
