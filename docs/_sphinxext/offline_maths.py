"""Serve MathJax from the built site, and fail a build whose maths needs the network.

Sphinx's ``sphinx.ext.mathjax`` loads MathJax from a CDN by default, so a
page read offline (or built on a machine without network access and opened
later) shows its formulas as raw LaTeX. The docs extra installs the
``sphinx-mathjax-offline`` distribution, which ships a copy of MathJax 3;
`mathjax_static_dir` finds that copy so that ``conf.py`` can add it to
``html_static_path``, and `check_offline_maths` runs when the build ends and
raises when any page still refers to MathJax on another host, or when a page
with maths loads a MathJax script that is not in the built site.

Nothing here imports Sphinx at module level, so the checks can be tested on
a folder of HTML files without building the docs.
"""

import importlib.metadata
import re
from pathlib import Path

# The MathJax entry point, relative to the site's ``_static`` folder.
MATHJAX_PATH = "mathjax/tex-chtml.js"

_SCRIPT_SRC = re.compile(r"<script\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.I)
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)
# Sphinx marks the HTML of a formula with these classes.
_MATHS = re.compile(r"class=\"[^\"]*\bmath\b", re.I)


def mathjax_static_dir():
    """The folder holding ``mathjax/tex-chtml.js``, or None when not installed.

    The copy comes with the ``sphinx-mathjax-offline`` distribution (in the
    docs extra). Its import name has dashes, so it is found through the
    distribution's file list rather than imported.
    """
    try:
        dist = importlib.metadata.distribution("sphinx-mathjax-offline")
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.as_posix().endswith("static/mathjax/tex-chtml.js"):
            static = Path(dist.locate_file(file)).parent.parent
            if (static / MATHJAX_PATH).is_file():
                return static
    return None


def offline_maths_problems(outdir):
    """List the pages under ``outdir`` whose maths would need the network.

    A page is a problem when it loads a script named like MathJax from
    another host, or when it holds maths and loads no MathJax script that
    exists in the built site.

    Returns
    -------
    problems : list of str
        One line per problem, naming the page (relative to ``outdir``).
    """
    outdir = Path(outdir)
    problems = []
    for page in sorted(outdir.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        name = page.relative_to(outdir).as_posix()
        sources = _SCRIPT_SRC.findall(text)
        remote = [s for s in sources if _REMOTE.match(s) and "mathjax" in s.lower()]
        for src in remote:
            problems.append(f"{name}: loads MathJax from the network ({src})")
        if remote or not _MATHS.search(text):
            continue
        local = [
            (page.parent / src.split("?")[0]).resolve()
            for src in sources
            if "mathjax" in src.lower() and not _REMOTE.match(src)
        ]
        if not any(path.is_file() for path in local):
            problems.append(
                f"{name}: has maths but loads no MathJax script from the built site"
            )
    return problems


def check_offline_maths(app, exception):
    """Sphinx ``build-finished`` hook: fail when a page's maths needs the network."""
    if exception is not None or app.builder.format != "html":
        return
    problems = offline_maths_problems(app.outdir)
    if problems:
        from sphinx.errors import ExtensionError

        raise ExtensionError(
            "The maths of these pages would not render offline; install the "
            'docs extra (pip install ".[docs]", which brings '
            "sphinx-mathjax-offline) so that MathJax is served from the site:\n  "
            + "\n  ".join(problems[:20])
            + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        )


if __name__ == "__main__":
    import sys

    found = offline_maths_problems(sys.argv[1])
    for line in found:
        print(line, file=sys.stderr)
    sys.exit(1 if found else 0)
