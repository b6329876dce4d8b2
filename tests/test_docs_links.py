"""The links of the learner-facing pages lead somewhere: every relative link names a file of the
repository, and every #anchor a heading of the page it points into (GitHub's heading slugs)."""
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["docs/README.md", "docs/faq.md", "docs/differences.md", "docs/api.md",
         "tutorials/README.md"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading):
    """GitHub's anchor for a heading: lowercased, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path):
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"```.*?```", "", f.read(), flags=re.S)   # no headings inside code
    return {slug(m) for m in re.findall(r"^#+ (.*)$", text, flags=re.M)}


def test_slug_follows_github():
    assert slug("Why are the logits (B, M, V) and not (B, T, V)?") == \
        "why-are-the-logits-b-m-v-and-not-b-t-v"
    assert slug("`minibert.testing.gradient_check`") == "miniberttestinggradient_check"


@pytest.mark.parametrize("page", PAGES)
def test_links_resolve(page):
    path = os.path.join(ROOT, page)
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"```.*?```", "", f.read(), flags=re.S)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):                      # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) \
            if file_part else path
        if not os.path.exists(linked):
            broken.append(f"{target}: no file {os.path.relpath(linked, ROOT)}")
        elif anchor and linked.endswith(".md") and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {os.path.relpath(linked, ROOT)}")
    assert not broken, f"{page}:\n" + "\n".join(broken)
