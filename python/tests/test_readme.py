"""The Python snippet at the top of README.md works as written, right after the set-up it shows.

The snippet is read from README.md (the first ```python block, before "## Contents") and run as
it stands, from the checkout, as a user who just ran `scripts/demo.sh` and `pip install '.[onnx]'`
there would: it pushes examples/iris-logreg into a layout of its own under /tmp/zoo, loads it
with hub.load, runs the session, and pulls the model into the shared cache (this test's own).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import IRIS_MODEL_FILES, REPO_ROOT

LAYOUT = Path("/tmp/zoo/iris-logreg")


def readme_snippet() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    top = readme.split("\n## Contents\n", 1)[0]
    assert "```python\n" in top, "README.md has a Python snippet before its contents"
    return top.split("```python\n", 1)[1].split("\n```", 1)[0]


def git_status() -> str:
    git = shutil.which("git")
    if git is None:
        pytest.fail("setup error: `git` is not installed (the test compares the checkout's git status)", pytrace=False)
    out = subprocess.run(
        [git, "status", "--porcelain", "--untracked-files=all"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, f"git status fails in {REPO_ROOT}: {out.stderr}"
    return out.stdout


def test_the_readme_python_snippet_runs_as_written_after_the_set_up(iris_example, zoo_cache, monkeypatch):
    import onnxruntime

    snippet = readme_snippet()
    # What the snippet makes under /tmp goes again afterwards; what was there before stays.
    made = [p for p in (LAYOUT.parent, LAYOUT) if not p.exists()]
    before = git_status()
    monkeypatch.chdir(REPO_ROOT)
    names: dict = {"__name__": "__readme__"}
    try:
        exec(compile(snippet, "README.md (the Python snippet at the top)", "exec"), names)
    finally:
        for path in reversed(made):
            shutil.rmtree(path, ignore_errors=True)

    assert isinstance(names["session"], onnxruntime.InferenceSession), type(names["session"])
    assert [int(x) for x in names["label"]] == [0], "the README says the flower is a setosa (0)"
    folder = names["folder"]
    assert isinstance(folder, Path) and folder.is_dir()
    assert folder.is_relative_to(zoo_cache), f"{folder} is a snapshot in the shared cache"
    pulled = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != ".zoo-oci.json")
    assert pulled == sorted(IRIS_MODEL_FILES), "only='model' pulls the model variants, and nothing else"
    assert git_status() == before, "the snippet wrote into the checkout"
