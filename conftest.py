"""Test-session setup shared by the suite, the doctests and the user guide.

scikit-learn's ``array_api_dispatch=True`` needs SciPy's own Array API
support, which SciPy reads from ``SCIPY_ARRAY_API`` when it is first
imported: set it before anything imports SciPy, so that the Array API tests
(tests/test_array_api.py) can turn dispatch on.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
