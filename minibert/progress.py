"""The progress bar of minibert's long-running work (``fit``, ``evaluate``, downloads).

``tqdm.auto`` picks tqdm's notebook widget in Jupyter and the text bar elsewhere; in a
notebook without ipywidgets it falls back to the text bar but warns (a TqdmWarning,
"IProgress not found"). ``progress_bar`` makes the same choice without that warning.
"""
import warnings


def progress_bar(**options):
    """A ``tqdm.auto.tqdm(**options)`` bar: the notebook widget in Jupyter with ipywidgets
    installed, the plain text bar everywhere else, chosen quietly."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        from tqdm.auto import tqdm
    return tqdm(**options)
