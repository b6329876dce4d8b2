"""Write docs/api.md, the API reference, from minibert's docstrings.

    python docs/make_api_reference.py           # rewrite docs/api.md
    python docs/make_api_reference.py --check   # exit 1 if docs/api.md is out of date

For each public module (``MODULES``) it lists the public classes and functions with their
signatures and the first paragraph of their docstrings, and for each class its own public
methods and properties. What is public:

* a module with ``__all__``: the names in it, plus the classes and functions the module itself
  defines whose names do not start with "_";
* a module without ``__all__``: its classes and functions (defined in minibert) whose names do
  not start with "_".

A submodule listed in ``__all__`` gets its own section (``minibert.optimizers.schedules``). An
object exported under two names is documented once, under its own ``__name__``, with the other
name given as an alias. The top-level ``minibert`` section documents only what no other section
does and points to the rest. Nothing here is written by hand: change a docstring, run the
script, commit both (``tests/test_api_reference.py`` fails while they disagree).
"""
import argparse
import importlib
import inspect
import os
import re
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:                  # run from a checkout without installing minibert
    sys.path.insert(0, ROOT)
OUTPUT = os.path.join(ROOT, "docs", "api.md")

#: (section title, how to reach the module from ``minibert``), in the order of the page.
MODULES = [
    ("minibert", ""),
    ("minibert.models", "models"),
    ("minibert.layers", "layers"),
    ("minibert.ops", "ops"),
    ("minibert.tokenizers", "tokenizers"),
    ("minibert.optimizers", "optimizers"),
    ("minibert.losses", "losses"),
    ("minibert.metrics", "metrics"),
    ("minibert.callbacks", "callbacks"),
    ("minibert.presets", "presets"),
    ("minibert.embeddings", "embeddings"),
    ("minibert.fill_mask", "fill_mask"),
    ("minibert.testing.gradient_check", "testing.gradient_check"),
    ("minibert.testing.parity", "testing.parity"),
    ("minibert.testing.device", "testing.device"),
]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _module(path):
    """The module reached from ``minibert`` by the dotted attribute ``path`` (importing the
    ``minibert.testing`` submodules, which the package does not import itself)."""
    import minibert
    module = minibert
    for part in filter(None, path.split(".")):
        if not hasattr(module, part):
            importlib.import_module(f"{module.__name__}.{part}")
        module = getattr(module, part)
    return module


def first_paragraph(obj, own_only=False):
    """The first paragraph of ``obj``'s docstring, or "" (``own_only``: not inherited)."""
    doc = obj.__dict__.get("__doc__") if own_only else inspect.getdoc(obj)
    if not doc:
        return ""
    doc = inspect.cleandoc(doc)
    return doc.split("\n\n")[0].strip()


def signature(obj, drop_first=False):
    """``inspect.signature`` as text, without memory addresses (and without the first
    parameter, ``self``, for ``drop_first``); "(...)" if there is none."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    if drop_first:
        sig = sig.replace(parameters=list(sig.parameters.values())[1:])
    return _ADDRESS.sub("", str(sig))


def _is_minibert(obj):
    return getattr(obj, "__module__", "").startswith("minibert")


def public_members(module):
    """[(name, object)] of ``module``'s public classes, functions and submodules (see the
    module docstring), in ``__all__`` order or alphabetically."""
    names = list(getattr(module, "__all__", []))
    own = sorted(name for name, obj in vars(module).items() if not name.startswith("_")
                 and (inspect.isclass(obj) or inspect.isfunction(obj))
                 and obj.__module__ == module.__name__)
    if hasattr(module, "__all__"):
        names += [name for name in own if name not in names]
    else:
        names = sorted(name for name, obj in vars(module).items() if not name.startswith("_")
                       and (inspect.isclass(obj) or inspect.isfunction(obj))
                       and _is_minibert(obj))
    return [(name, getattr(module, name)) for name in names]


def _class_members(cls):
    """Lines documenting ``cls``'s own public methods and properties, in definition order."""
    lines = []
    for name, attribute in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(attribute, property):
            kind, target, text = "property", attribute, f"{name}"
        elif isinstance(attribute, (classmethod, staticmethod)):
            kind = "classmethod" if isinstance(attribute, classmethod) else "staticmethod"
            target = getattr(cls, name)
            text = f"{name}{signature(target)}"
        elif inspect.isfunction(attribute):
            kind, target = "method", getattr(cls, name)
            text = f"{name}{signature(attribute, drop_first=True)}"
        else:
            continue
        doc = first_paragraph(attribute.fget if kind == "property" else target)
        prefix = "" if kind == "method" else f"{kind} "
        lines.append(f"- {prefix}`{text}`" + (f": {_one_line(doc)}" if doc else ""))
    return lines


def _one_line(text):
    """A paragraph folded into one line (for list items)."""
    return " ".join(text.split())


def _entry(title, obj, aliases, heading, homes):
    """The Markdown of one class or function. A class's bases link to their entries; the
    members of a direct base that has no entry of its own (``Trainer``, which gives the tasks
    ``fit`` and ``predict``) are listed under the class."""
    lines = [f"{heading} `{title}`", ""]
    if inspect.isclass(obj):
        bases = [b for b in obj.__bases__ if b is not object]
        lines += ["```python", f"class {obj.__name__}{signature(obj)}", "```", ""]
        if bases:
            lines += ["Bases: " + ", ".join(_link(b, homes) for b in bases) + ".", ""]
        doc = first_paragraph(obj, own_only=True)
    else:
        lines += ["```python", f"{obj.__name__}{signature(obj)}", "```", ""]
        doc = first_paragraph(obj)
    if aliases:
        lines += [f"Also exported as {', '.join(f'`{a}`' for a in aliases)}.", ""]
    if doc:
        lines += [doc, ""]
    if inspect.isclass(obj):
        members = _class_members(obj)
        if members:
            lines += members + [""]
        for base in obj.__bases__:
            if id(base) not in homes and _is_minibert(base) and _class_members(base):
                lines += [f"From `{base.__name__}` (`{base.__module__}`):", ""]
                lines += _class_members(base) + [""]
    return lines


def _link(cls, homes):
    """`Name`, linked to its entry when it has one."""
    if id(cls) in homes:
        title, name = homes[id(cls)]
        return f"[`{cls.__name__}`](#{_anchor(f'{title}.{name}')})"
    return f"`{cls.__name__}`"


def _sections():
    """[(title, module)] of every section, submodules in ``__all__`` after their parent."""
    result = []

    def add(title, module):
        result.append((title, module))
        for name, obj in public_members(module):
            if isinstance(obj, types.ModuleType):
                add(f"{title}.{name}", obj)

    for title, path in MODULES:
        add(title, _module(path))
    return result


def _objects(module):
    """{id: (object, [names])} of the classes and functions ``module`` exports."""
    by_object = {}
    for name, obj in public_members(module):
        if not isinstance(obj, types.ModuleType):
            by_object.setdefault(id(obj), (obj, []))[1].append(name)
    return by_object


def _homes(sections):
    """{id: (section title, name)}: where each object is documented in full. Its home is the
    section whose module is the longest prefix of the module that defines it (the top-level
    ``minibert`` only for what no other section exports), else the first section exporting it."""
    candidates = {}
    for title, module in sections:
        for key, (obj, names) in _objects(module).items():
            candidates.setdefault(key, []).append((title, module, obj, names))
    homes = {}
    for key, places in candidates.items():
        obj = places[0][2]
        inner = [p for p in places if p[0] != "minibert"] or places
        prefixed = [p for p in inner if obj.__module__ == p[1].__name__
                    or obj.__module__.startswith(p[1].__name__ + ".")]
        title, _, _, names = max(prefixed, key=lambda p: len(p[1].__name__)) if prefixed \
            else inner[0]
        homes[key] = (title, obj.__name__ if obj.__name__ in names else names[0])
    return homes


def _anchor(title):
    return title.replace(".", "").lower()


def _section(title, module, homes):
    """The Markdown of one module: full entries for what lives here, links for the rest."""
    depth = "##" if title.count(".") <= 1 or title.startswith("minibert.testing.") else "###"
    lines = [f"{depth} `{title}`", ""]
    summary = first_paragraph(module)
    if summary:
        lines += [summary, ""]
    elsewhere = []
    for key, (obj, names) in _objects(module).items():
        home, canonical = homes[key]
        if home == title:
            lines += _entry(f"{title}.{canonical}", obj, [n for n in names if n != canonical],
                            "#" * (len(depth) + 1), homes)
        else:
            elsewhere.append((", ".join(f"`{n}`" for n in names), f"{home}.{canonical}"))
    if elsewhere:
        lines += ["Also exported here:", ""]
        lines += [f"- {names}: [`{where}`](#{_anchor(where)})" for names, where in elsewhere]
        lines += [""]
    return lines


def render():
    """The whole page, as a string."""
    sections = _sections()
    homes = _homes(sections)
    header = [
        "# API reference",
        "",
        "Generated from the docstrings by `docs/make_api_reference.py`; do not edit by hand.",
        "Each entry gives the signature and the first paragraph of the docstring; the full",
        "docstrings, and the derivations in [`docs/ops/`](ops/README.md), say more. An object",
        "exported by several modules is documented once, where it is defined, and linked from",
        "the others.",
        "",
        "Modules: " + ", ".join(f"[`{title}`](#{_anchor(title)})" for title, _ in sections)
        + ".",
        "",
    ]
    body = [line for title, module in sections for line in _section(title, module, homes)]
    text = "\n".join(header + body)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/api.md differs from what would be written")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        with open(OUTPUT, encoding="utf-8") as f:
            if f.read() != text:
                print("docs/api.md is out of date: run python docs/make_api_reference.py",
                      file=sys.stderr)
                return 1
        return 0
    with open(OUTPUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(OUTPUT, ROOT)} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
