"""docs/api.md is generated from the docstrings by docs/make_api_reference.py: the committed
page must be what the script writes for the code as it is now."""
import difflib
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _generator():
    path = os.path.join(ROOT, "docs", "make_api_reference.py")
    spec = importlib.util.spec_from_file_location("make_api_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_reference_is_up_to_date():
    expected = _generator().render()
    with open(os.path.join(ROOT, "docs", "api.md"), encoding="utf-8") as f:
        committed = f.read()
    diff = "".join(difflib.unified_diff(committed.splitlines(True), expected.splitlines(True),
                                        "docs/api.md (committed)", "docs/api.md (from the code)",
                                        n=1))
    assert committed == expected, ("docs/api.md is out of date; run "
                                   f"`python docs/make_api_reference.py`:\n{diff[:4000]}")


def test_every_section_documents_something():
    generator = _generator()
    for title, module in generator._sections():
        assert generator.public_members(module), f"{title}: no public classes or functions"
    text = generator.render()
    for title, _ in generator._sections():
        assert f"`{title}`" in text
    # The public entry points of the tutorials are in it.
    for name in ["minibert.models.BertBackbone", "minibert.ops.layer_norm_backward",
                 "minibert.testing.gradient_check.check_gradients",
                 "minibert.testing.parity.compare_preset", "minibert.set_backend"]:
        assert f"`{name}`" in text, name
