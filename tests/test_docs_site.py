"""The documentation: the MkDocs site builds with --strict, and the README stays short with links that work.

`mkdocs.yml` turns a broken link, a link to a missing heading, a link out of docs/ and a page left out of
the nav into warnings, which --strict makes errors.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_README_LINES = 250

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
"""An inline Markdown link or image: its target (reference-style links are not used in the README)."""
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)
"""A target with a scheme (https:, mailto:), protocol-relative, or an anchor on the same page."""
FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1", re.MULTILINE | re.DOTALL)


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # the theme's banner about MkDocs 2.0
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = f"{build.stdout}\n{build.stderr}"
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{output}"
    assert (tmp_path / "site" / "index.html").is_file(), output
    assert (tmp_path / "site" / "api.html").is_file(), output


def test_the_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; move detail to docs/"


def relative_links(markdown: str) -> list[str]:
    """The targets of the inline links and images that point into the repository, outside code blocks."""
    prose = FENCE.sub("", markdown)
    return [target for target in LINK.findall(prose) if not EXTERNAL.match(target)]


def test_relative_links_are_found_in_prose_only() -> None:
    sample = "[a](docs/a.md#x) ![b](docs/b.png) [c](https://x.org) [d](#top)\n```\n[e](nowhere.md)\n```\n"
    assert relative_links(sample) == ["docs/a.md#x", "docs/b.png"]


def test_the_readmes_relative_links_point_to_files_that_exist() -> None:
    targets = relative_links(README.read_text(encoding="utf-8"))
    assert targets, "the README links to no page in docs/"
    missing = [target for target in targets if not (ROOT / target.split("#")[0].split("?")[0]).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"
