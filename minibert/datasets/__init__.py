"""Text corpora that exist on every machine with Python (no download)."""
from minibert.datasets.python_docs import (load_python_docs, load_python_docs_packages,
                                           load_python_docs_sources)

__all__ = ["load_python_docs", "load_python_docs_packages", "load_python_docs_sources"]
