"""``require(name)``: import a reference library (torch, transformers, keras_hub, ...) for a
parity test. Without it the test is skipped, unless MINIBERT_REQUIRE_REFERENCES=1 (set by
``.ci/run``), in which case a missing reference is a failure: parity tests must run in CI."""
import importlib
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")


def require(name):
    """Import and return module ``name``, or skip (fail under MINIBERT_REQUIRE_REFERENCES=1)."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        if os.environ.get("MINIBERT_REQUIRE_REFERENCES") == "1":
            pytest.fail(f"reference library {name!r} is required here but missing: {error}")
        pytest.skip(f"reference library {name!r} cannot be imported: {error}")
