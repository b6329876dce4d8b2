"""The progress bar: tqdm.auto's choice, without its warning in a notebook lacking ipywidgets."""
import importlib
import sys
import types
import warnings

import pytest

from minibert.progress import progress_bar

_TQDM_CHOOSERS = ("tqdm.auto", "tqdm.autonotebook", "tqdm.notebook")


class ZMQInteractiveShell:
    """The class name tqdm.autonotebook looks at to recognise a Jupyter kernel."""


@pytest.fixture
def jupyter_without_ipywidgets(monkeypatch):
    """A Jupyter kernel as tqdm detects one, ipywidgets not importable, and tqdm's choice not
    yet made (its modules are imported afresh; monkeypatch restores the originals)."""
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = ZMQInteractiveShell
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "ipykernel.zmqshell", types.ModuleType("ipykernel.zmqshell"))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    for name in _TQDM_CHOOSERS:
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_tqdm_auto_alone_warns_in_a_notebook_without_ipywidgets(jupyter_without_ipywidgets):
    from tqdm.std import TqdmWarning
    with pytest.warns(TqdmWarning, match="IProgress not found"):
        importlib.import_module("tqdm.auto")


def test_progress_bar_falls_back_to_text_quietly(jupyter_without_ipywidgets):
    import tqdm.std
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bar = progress_bar(total=3, disable=True)
    assert [str(w.message) for w in caught] == []
    assert isinstance(bar, tqdm.std.tqdm)
    assert not any("notebook" in cls.__module__ for cls in type(bar).__mro__)
    bar.close()
