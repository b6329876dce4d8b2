"""The documentation of CPython's standard library as an English text corpus.

Every Python installation carries it: the docstrings of the standard-library modules (read
from their source with ``ast``, nothing is imported or run) and the help topics of
``pydoc_data.topics``. The text is split into paragraphs and whitespace is normalised.

Views of it:

    load_python_docs_sources(split)      (source, paragraphs) per file or help topic
    load_python_docs(split)              paragraphs; the split is by source file, so the
                                         held-out part is whole modules never seen in training
    load_python_docs(split, passage_length=64)
                                         consecutive paragraphs of one source joined into
                                         passages of at most 64 words (or tokens, with a
                                         ``word_length``): fixed-length sequences with less
                                         padding than single paragraphs
    load_python_docs_packages(split)     a labelled task: which standard-library package a
                                         paragraph comes from (balanced classes, held out by
                                         source file: ``package_files``)

The corpus depends on the Python version; for one version it is the same on every machine.
"""
import ast
import functools
import hashlib
import os
import re
import sysconfig

import numpy as np

_MIN_CHARACTERS = 40
_SKIPPED_DIRECTORIES = {"test", "tests", "idlelib", "lib2to3", "site-packages", "__pycache__",
                        "turtledemo", "ensurepip", "tkinter"}

#: The classes of ``load_python_docs_packages``: packages present in every supported Python
#: version, each with at least a dozen source files and 170 paragraphs.
PACKAGES = ("asyncio", "email", "importlib", "multiprocessing", "unittest", "xml")


def _stdlib_sources():
    """(root, paths of the standard library's .py files, sorted; tests and vendored code left
    out)."""
    root = sysconfig.get_paths()["stdlib"]
    paths = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in _SKIPPED_DIRECTORIES)
        paths.extend(os.path.join(directory, f) for f in sorted(files) if f.endswith(".py"))
    return root, paths


def _docstrings(source):
    """Module, class and function docstrings of one source file, in file order."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    nodes = [tree] + [n for n in ast.walk(tree) if isinstance(
        n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    return [doc for doc in (ast.get_docstring(n) for n in nodes) if doc]


def _paragraphs(text):
    """Blank-line separated paragraphs with whitespace runs folded to one space."""
    for block in re.split(r"\n\s*\n", text):
        paragraph = " ".join(block.split())
        if len(paragraph) >= _MIN_CHARACTERS:
            yield paragraph


def _hash_fraction(name):
    """A number in [0, 1) fixed by ``name`` (the first 32 bits of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big") / 2 ** 32


def _check_split(split, allowed):
    if split not in allowed:
        raise ValueError(f"split: expected one of {', '.join(map(repr, allowed))}, "
                         f"got {split!r}")


@functools.lru_cache(maxsize=1)
def _all_sources():
    """Every source: ((name, paragraphs), ...), parsed once per process."""
    root, paths = _stdlib_sources()
    sources = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            sources.append((os.path.relpath(path, root).replace(os.sep, "/"),
                            tuple(p for doc in _docstrings(f.read()) for p in _paragraphs(doc))))
    from pydoc_data.topics import topics
    sources.extend((f"topic:{topic}", tuple(_paragraphs(topics[topic])))
                   for topic in sorted(topics))
    return tuple((name, paragraphs) for name, paragraphs in sources if paragraphs)


def load_python_docs_sources(split="train", test_fraction=0.1):
    """The corpus grouped by where it comes from.

    Args:
        split: "train", "test" or "all".
        test_fraction: a source goes to "test" when the hash of its name (``_hash_fraction``)
            is below this, so about this share of the sources is held out.

    Returns:
        A list of ``(source, paragraphs)`` in a fixed order: ``source`` is the file's path
        relative to the standard library ("email/message.py") or "topic:<name>" for a help
        topic, ``paragraphs`` a list of strings; sources without a paragraph are left out.
        The files are read once per process.
    """
    _check_split(split, ("train", "test", "all"))
    return [(name, list(paragraphs)) for name, paragraphs in _all_sources()
            if split == "all" or (_hash_fraction(name) < test_fraction) == (split == "test")]


def passages(paragraphs, max_length, word_length=None):
    """Join consecutive paragraphs (with a space) into passages of at most ``max_length``.

    Passages are filled greedily, word by word: a paragraph that does not fit in what is left
    of the current passage continues in the next one. Length is counted per
    whitespace-separated word by ``word_length(word)`` (None: 1 per word; a tokenizer's
    ``lambda w: len(tokenizer(w))`` counts tokens, which add up since tokenizers split words
    on whitespace first). No word is lost or reordered; a single word longer than
    ``max_length`` makes a passage of its own.
    """
    if not isinstance(max_length, int) or max_length <= 0:
        raise ValueError(f"max_length: expected a positive int, got {max_length!r}")
    result, current, length = [], [], 0
    for paragraph in paragraphs:
        for word in paragraph.split():
            size = 1 if word_length is None else word_length(word)
            if current and length + size > max_length:
                result.append(" ".join(current))
                current, length = [], 0
            current.append(word)
            length += size
    if current:
        result.append(" ".join(current))
    return result


def load_python_docs(split="train", test_fraction=0.1, passage_length=None,
                     word_length=None):
    """Paragraphs of the standard library's documentation.

    Args:
        split: "train", "test" or "all" (see ``load_python_docs_sources``).
        test_fraction: the share of source files (and help topics) held out as "test".
        passage_length: None for one string per paragraph; an int to join the consecutive
            paragraphs of each source into passages of at most that length (``passages``;
            a passage never spans two sources).
        word_length: how ``passage_length`` counts a word (None: 1, so it counts words).

    Returns a list of strings, in a fixed order.
    """
    texts = []
    for _, paragraphs in load_python_docs_sources(split, test_fraction):
        texts.extend(paragraphs if passage_length is None
                     else passages(paragraphs, passage_length, word_length))
    return texts


def package_files(split="train", packages=PACKAGES, test_share=0.25):
    """The source files of each package in one split of ``load_python_docs_packages``.

    Within each package the source files are ordered by the hash of their name and the first
    ones are held out as "test" until they hold at least ``test_share`` of the package's
    paragraphs (at least one file, never all). Files with a hash below 0.1, the held-out
    files of ``load_python_docs``, come first.

    Returns ``{package: [(source, paragraphs), ...]}`` in the order of ``packages``.
    """
    _check_split(split, ("train", "test"))
    by_package = {package: [] for package in packages}
    for name, paragraphs in load_python_docs_sources("all"):
        package = name.split("/")[0]
        if "/" in name and package in by_package:
            by_package[package].append((name, paragraphs))
    result = {}
    for package, files in by_package.items():
        if len(files) < 2:
            raise ValueError(f"packages: {package!r} has {len(files)} documented source "
                             "files in this Python; a class needs at least two")
        files.sort(key=lambda item: _hash_fraction(item[0]))
        total = sum(len(paragraphs) for _, paragraphs in files)
        held, count = 0, 0
        while held < len(files) - 1 and (held == 0 or count < test_share * total):
            count += len(files[held][1])
            held += 1
        result[package] = files[:held] if split == "test" else files[held:]
    return result


def load_python_docs_packages(split="train", packages=PACKAGES, test_share=0.25, seed=0):
    """A text-classification task: the standard-library package a paragraph comes from.

    The paragraphs of each package's files in ``package_files(split, packages, test_share)``
    are balanced: from every class the same number of paragraphs (the smallest class's count)
    is drawn at random with ``seed``, and kept in file order.

    Args:
        split: "train" or "test".
        packages: the top-level package names, one class each, in label order.
        test_share: the least share of each package's paragraphs that is held out.
        seed: the seed of the balancing draw.

    Returns:
        ``(texts, labels, packages)``: a list of paragraphs, an int32 array of class indices
        (into ``packages``) and the package names as a list.
    """
    packages = list(packages)
    chosen = [[p for _, paragraphs in files for p in paragraphs]
              for files in package_files(split, packages, test_share).values()]
    size = min(len(texts) for texts in chosen)
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, class_texts in enumerate(chosen):
        picked = np.sort(rng.permutation(len(class_texts))[:size])
        texts.extend(class_texts[i] for i in picked)
        labels.extend([label] * size)
    return texts, np.asarray(labels, dtype="int32"), packages
