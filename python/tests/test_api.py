"""Every call of the public API against a live registry and against an OCI layout: init, check,
push, tag, inspect, index, copy, pull (whole and selected), the Suite's repr, and the `zoo-oci`
command the wheel installs."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sysconfig
from pathlib import Path

import pytest

import zoo_oci
from conftest import (
    SMALL_SUITE_README,
    assert_same_tree,
    covers,
    field,
    files_of,
    names,
    onnx_model,
    pseudo_random,
    safetensors_model,
    small_suite,
    write,
    zoo_cli,
    zoo_command,
)

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")

#: The layer classes of small_suite, in the artifact's order.
SMALL_CLASSES = ["model", "model", "model", "scripts", "notebooks", "dataset", "readme", "license", "docs"]
#: Its files.
SMALL_FILES = sorted(
    [
        "models/onnx/model.onnx",
        "models/onnx/extra/weights.bin",
        "models/model.safetensors",
        "scripts/infer.py",
        "scripts/validate.py",
        "scripts/common.py",
        "notebooks/demo.ipynb",
        *[f"data/test/sample-{i}.csv" for i in range(5)],
        "README.md",
        "LICENSE",
        "docs/card.md",
        "zoo.yaml",
    ]
)


def manifest_digest(registry, repo_tag: str) -> str:
    """The digest of the manifest bytes the registry serves (computed here, not by zoo_oci)."""
    name, tag = repo_tag.rsplit(":", 1)
    response = registry.get(f"/v2/{name}/manifests/{tag}", {"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert response.status == 200, response.body[:300]
    return "sha256:" + hashlib.sha256(response.body).hexdigest()


# --------------------------------------------------------------------------------------------
# init and check
# --------------------------------------------------------------------------------------------


def unlabelled_folder(root: Path) -> Path:
    """A folder of model files, a script and a README, without zoo.yaml."""
    d = root / "fresh"
    write(d, "models/model.onnx", onnx_model(13, pseudo_random(4_000, 7)))
    write(d, "scripts/infer.py", "#!/usr/bin/env python3\nprint('hi')\n", True)
    write(d, "README.md", "# Fresh\n\nA fresh model to describe.\n")
    write(d, "LICENSE", "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\n")
    return d


def test_init_writes_a_descriptor_that_check_accepts_and_refuses_to_overwrite_it(tmp_path):
    folder = unlabelled_folder(tmp_path)
    written = zoo_oci.init(folder)
    assert isinstance(written, Path)
    assert written == folder / "zoo.yaml"
    text = written.read_text()
    assert re.search(r"(?m)^name: ", text) and re.search(r"(?m)^version: ", text), text
    assert "models/" in text and "scripts/infer.py" in text, text

    result = zoo_oci.check(folder)
    assert result.ok is True, result.problems
    assert bool(result) is True
    assert isinstance(result.problems, list)
    assert all(field(p, "severity") != "error" for p in result.problems), result.problems

    # A second init refuses to replace it; force does.
    (folder / "zoo.yaml").write_text(text + "# edited by hand\n")
    with pytest.raises(zoo_oci.ZooError) as refused:
        zoo_oci.init(folder)
    assert "force" in (refused.value.hint or ""), refused.value.hint
    assert (folder / "zoo.yaml").read_text().endswith("# edited by hand\n"), "init must not touch it"
    assert zoo_oci.init(folder, force=True) == folder / "zoo.yaml"
    assert not (folder / "zoo.yaml").read_text().endswith("# edited by hand\n")


def test_check_lists_every_problem_and_is_falsy_when_the_suite_is_broken(tmp_path):
    folder = small_suite(tmp_path)
    assert zoo_oci.check(folder), "the small suite is valid"
    (folder / "scripts/infer.py").unlink()
    (folder / "notebooks/demo.ipynb").unlink()
    result = zoo_oci.check(folder)
    assert result.ok is False
    assert not result
    messages = " | ".join(str(field(p, "message")) for p in result.problems)
    assert "scripts/infer.py" in messages and "notebooks/demo.ipynb" in messages, messages
    errors = [p for p in result.problems if field(p, "severity") == "error"]
    assert len(errors) >= 2, result.problems


# --------------------------------------------------------------------------------------------
# push, tag, inspect on a registry
# --------------------------------------------------------------------------------------------


def test_push_tag_and_inspect_on_a_registry(registry, tmp_path, repo):
    suite = small_suite(tmp_path)
    digest = zoo_oci.push(suite, registry.at(repo), plain_http=True, quiet=True)
    assert isinstance(digest, str) and DIGEST.fullmatch(digest), digest
    # Without a tag, the version is the tag; the digest is that of the bytes the registry holds.
    assert manifest_digest(registry, f"{repo}:1.0.0") == digest
    assert zoo_oci.push(suite, registry.at(f"{repo}:1.0.0"), plain_http=True, quiet=True) == digest, "reproducible"

    tagged = zoo_oci.tag(registry.at(f"{repo}:1.0.0"), "stable", "latest", plain_http=True)
    assert isinstance(tagged, list) and len(tagged) == 2, tagged
    assert any("stable" in t for t in tagged) and any("latest" in t for t in tagged), tagged
    for tag in ("1.0.0", "stable", "latest"):
        assert manifest_digest(registry, f"{repo}:{tag}") == digest, tag

    s = zoo_oci.inspect(registry.at(f"{repo}:stable"), plain_http=True)
    assert s.digest == digest
    assert s.name == "tiny"
    assert s.version == "1.0.0"
    assert s.summary == "A tiny suite for tests"
    assert s.task == "image-classification"
    assert s.modality == "cv"
    assert s.license == "MIT"
    assert set(s.tags) >= {"test", "tiny"}, s.tags
    assert list(s.authors) == ["Zoë Tester"]
    assert s.readme == SMALL_SUITE_README
    assert s.location == registry.at(f"{repo}:stable")
    assert sorted(s.frameworks) == ["onnx", "safetensors"]

    assert [v.name for v in s.variants] == ["onnx-opset13", "safetensors"]
    onnx, st = s.variants
    assert onnx.framework == "onnx" and st.framework == "safetensors"
    assert onnx.params == 17500
    assert onnx.precision == "fp32"
    assert covers(onnx.paths, "models/onnx/model.onnx") and covers(
        onnx.paths, "models/onnx/extra/weights.bin"
    ), onnx.paths
    assert not covers(onnx.paths, "models/model.safetensors"), onnx.paths
    assert covers(st.paths, "models/model.safetensors") and not covers(st.paths, "models/onnx/model.onnx"), st.paths
    assert st.size == (suite / "models/model.safetensors").stat().st_size
    assert isinstance(st.facts, dict) and st.facts.get("format") == "safetensors", st.facts

    assert [l.class_ for l in s.layers] == SMALL_CLASSES
    pushed = registry.manifest(f"{repo}:1.0.0")
    assert [l.digest for l in s.layers] == [l["digest"] for l in pushed["layers"]]
    assert [l.size for l in s.layers] == [l["size"] for l in pushed["layers"]]
    assert [l.media_type for l in s.layers] == [l["mediaType"] for l in pushed["layers"]]
    assert s.size == sum(l.size for l in s.layers)
    raw = s.layers[2]  # the ONNX folder's two weight files come first, each a layer
    assert (raw.name, raw.framework, raw.path, raw.files) == (
        "safetensors",
        "safetensors",
        "models/model.safetensors",
        1,
    )
    assert raw.media_type == "application/vnd.cncf.model.weight.v1.raw"
    assert raw.digest == "sha256:" + hashlib.sha256((suite / "models/model.safetensors").read_bytes()).hexdigest()
    dataset = s.layers[5]
    assert (dataset.name, dataset.path, dataset.files) == ("tiny-test", "data/test/", 5)

    assert field(field(s.io, "inputs")[0], "name") == "input"
    assert field(field(s.results[0], "dataset"), "split") == "test"
    assert field(field(s.results[0], "metrics")[0], "value") == 0.5
    assert {field(d, "name") for d in s.datasets} >= {"tiny-test", "tiny-train"}
    assert isinstance(s.raw, dict) and s.raw.get("digest") == digest

    text = repr(s)
    assert "tiny" in text and "1.0.0" in text, text
    html = s._repr_html_()
    assert isinstance(html, str) and "tiny" in html and "1.0.0" in html and "<" in html, html[:500]

    # The command line the wheel installs reads the same.
    out = zoo_cli("inspect", "--plain-http", "--format", "json", registry.at(f"{repo}:stable"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["digest"] == digest


def test_push_strict_refuses_a_suite_with_warnings(registry, tmp_path, repo):
    suite = small_suite(tmp_path)
    write(suite, "notes.txt", "not declared anywhere\n")  # a warning: undeclared, not shipped
    with pytest.raises(zoo_oci.ZooError) as refused:
        zoo_oci.push(suite, registry.at(f"{repo}:1"), strict=True, plain_http=True, quiet=True)
    assert refused.value.exit_code == 1
    assert not isinstance(refused.value, zoo_oci.TransportError), "a suite's problems are not a transport failure"
    assert registry.get(f"/v2/{repo}/manifests/1").status == 404, "nothing was pushed"
    # Without strict the warning does not stop it, and the undeclared file is not shipped.
    digest = zoo_oci.push(suite, registry.at(f"{repo}:1"), plain_http=True, quiet=True)
    out = zoo_oci.pull(registry.at(f"{repo}:1"), tmp_path / "out", plain_http=True, quiet=True)
    assert files_of(out) == SMALL_FILES
    assert json.loads((out / ".zoo-oci.json").read_text())["manifest"] == digest
    # check(strict=True) counts the same warning as an error; without strict it passes.
    assert zoo_oci.check(suite)
    assert not zoo_oci.check(suite, strict=True)


def test_push_dereference_packs_what_symbolic_links_point_to(tmp_path):
    # A Hugging Face cache snapshot is made of links into ../../blobs: here, one model file.
    suite = small_suite(tmp_path)
    model = suite / "models/model.safetensors"
    blob = tmp_path / "blobs" / "weights"
    blob.parent.mkdir()
    model.rename(blob)
    model.symlink_to(blob)
    layout = f"oci:{tmp_path / 'zoo'}:1"
    assert not zoo_oci.check(suite), "a link is an error without dereference"
    with pytest.raises(zoo_oci.ZooError) as refused:
        zoo_oci.push(suite, layout, quiet=True)
    assert "dereference" in str(refused.value), str(refused.value)
    assert zoo_oci.check(suite, dereference=True)
    zoo_oci.push(suite, layout, dereference=True, quiet=True)
    out = zoo_oci.pull(layout, tmp_path / "out", quiet=True)
    pulled = out / "models/model.safetensors"
    assert not pulled.is_symlink() and pulled.read_bytes() == blob.read_bytes()


# --------------------------------------------------------------------------------------------
# the same on an OCI layout
# --------------------------------------------------------------------------------------------


def test_push_tag_inspect_and_pull_on_an_oci_layout(tmp_path):
    suite = small_suite(tmp_path)
    layout = tmp_path / "zoo"
    digest = zoo_oci.push(suite, f"oci:{layout}:1.0.0", quiet=True)
    assert DIGEST.fullmatch(digest)
    index = json.loads((layout / "index.json").read_text())
    tagged = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]}
    assert tagged == {"1.0.0": digest}
    assert (layout / "blobs/sha256" / digest.removeprefix("sha256:")).is_file()

    assert len(zoo_oci.tag(f"oci:{layout}:1.0.0", "stable")) == 1
    index = json.loads((layout / "index.json").read_text())
    tagged = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]}
    assert tagged == {"1.0.0": digest, "stable": digest}

    s = zoo_oci.inspect(f"oci:{layout}:stable")
    assert (s.digest, s.name, s.version, s.task) == (digest, "tiny", "1.0.0", "image-classification")
    assert [l.class_ for l in s.layers] == SMALL_CLASSES
    assert s.readme == SMALL_SUITE_README

    out = zoo_oci.pull(f"oci:{layout}:1.0.0", tmp_path / "out", quiet=True)
    assert out == tmp_path / "out"
    assert_same_tree(suite, out)
    record = json.loads((out / ".zoo-oci.json").read_text())
    assert record["manifest"] == digest


def test_push_names_legacy_writes_what_released_harbor_reads_and_pulls_back(tmp_path):
    suite = small_suite(tmp_path)
    layout = tmp_path / "zoo"
    digest = zoo_oci.push(suite, f"oci:{layout}:1", names="legacy", quiet=True)
    manifest = json.loads((layout / "blobs/sha256" / digest.removeprefix("sha256:")).read_text())
    assert manifest["artifactType"] == "application/vnd.cnai.model.manifest.v1+json"
    assert all(l["mediaType"].startswith("application/vnd.cnai.model.") for l in manifest["layers"])
    assert_same_tree(suite, zoo_oci.pull(f"oci:{layout}:1", tmp_path / "out", quiet=True))
    with pytest.raises(zoo_oci.UsageError, match="neither"):
        zoo_oci.push(suite, f"oci:{layout}:2", names="cnai", quiet=True)


# --------------------------------------------------------------------------------------------
# index and its filters
# --------------------------------------------------------------------------------------------

TABULAR_YAML = """name: zebra-tab
version: "3.1"
summary: Zebra-striped tabular model for index filters
task: tabular-classification
tags: [tabular]
license: Apache-2.0
models:
  - {name: safetensors, path: models/model.safetensors, framework: safetensors, precision: fp32}
"""


def tabular_suite(root: Path) -> Path:
    d = root / "tabular"
    write(d, "models/model.safetensors", safetensors_model(pseudo_random(4_000, 11)))
    write(d, "README.md", "# Zebra tab\n\nStripes.\n")
    write(d, "zoo.yaml", TABULAR_YAML)
    return d


@pytest.mark.parametrize("where", ["registry", "layout"])
def test_index_lists_suites_and_its_filters_narrow_the_list(where, registry, tmp_path, namespace):
    tiny, tab = small_suite(tmp_path), tabular_suite(tmp_path)
    if where == "registry":
        location = registry.at(namespace)
        targets = (registry.at(f"{namespace}/tiny:1.0.0"), registry.at(f"{namespace}/zebra-tab:3.1"))
        opts = {"plain_http": True}
    else:
        location = f"oci:{tmp_path / 'zoo'}"
        targets = (f"{location}:tiny", f"{location}:zebra-tab")
        opts = {}
    digests = {
        "tiny": zoo_oci.push(tiny, targets[0], quiet=True, **opts),
        "zebra-tab": zoo_oci.push(tab, targets[1], quiet=True, **opts),
    }

    everything = zoo_oci.index(location, **opts)
    assert isinstance(everything, list)
    assert sorted(names(everything)) == ["tiny", "zebra-tab"]
    for s in everything:
        assert s.digest == digests[s.name]
        assert s.version == {"tiny": "1.0.0", "zebra-tab": "3.1"}[s.name]
    by_name = {s.name: s for s in everything}
    assert by_name["zebra-tab"].task == "tabular-classification"
    assert by_name["tiny"].license == "MIT"
    assert sorted(by_name["tiny"].frameworks) == ["onnx", "safetensors"]

    assert names(zoo_oci.index(location, task="tabular-classification", **opts)) == ["zebra-tab"]
    assert names(zoo_oci.index(location, task="image-classification", **opts)) == ["tiny"]
    assert names(zoo_oci.index(location, framework="onnx", **opts)) == ["tiny"]
    assert sorted(names(zoo_oci.index(location, framework="safetensors", **opts))) == ["tiny", "zebra-tab"]
    assert names(zoo_oci.index(location, license="Apache-2.0", **opts)) == ["zebra-tab"]
    assert names(zoo_oci.index(location, query="zebra", **opts)) == ["zebra-tab"]
    assert names(zoo_oci.index(location, query="tiny suite", **opts)) == ["tiny"]
    assert zoo_oci.index(location, query="no-such-word-anywhere", **opts) == []
    assert zoo_oci.index(location, task="tabular-classification", framework="onnx", **opts) == []


def test_index_keeps_a_registrys_tags_for_tags_max_age_and_refresh_lists_them_again(registry, tmp_path, namespace):
    tiny = small_suite(tmp_path)
    at = registry.at(f"{namespace}/tiny:1")
    zoo_oci.push(tiny, at, quiet=True, plain_http=True)
    location = registry.at(namespace)
    assert [s.version for s in zoo_oci.index(location, plain_http=True)] == ["1.0.0"]
    # The same tag now holds another version of the suite.
    yaml = (tiny / "zoo.yaml").read_text().replace('version: "1.0.0"', 'version: "2.0.0"')
    (tiny / "zoo.yaml").write_text(yaml)
    zoo_oci.push(tiny, at, quiet=True, plain_http=True)
    # Within the default age, the tags as the first index listed them; then listed again.
    assert [s.version for s in zoo_oci.index(location, plain_http=True)] == ["1.0.0"]
    assert [s.version for s in zoo_oci.index(location, refresh=True, plain_http=True)] == ["2.0.0"]
    assert [s.version for s in zoo_oci.index(location, tags_max_age=0, plain_http=True)] == ["2.0.0"]
    with pytest.raises(zoo_oci.UsageError, match="tags_max_age"):
        zoo_oci.index(location, tags_max_age=-1, plain_http=True)


# --------------------------------------------------------------------------------------------
# copy and pull
# --------------------------------------------------------------------------------------------


def test_copy_registry_to_layout_and_back_and_pull_byte_for_byte(registry, tmp_path, repo):
    suite = small_suite(tmp_path)
    digest = zoo_oci.push(suite, registry.at(f"{repo}:1.0.0"), plain_http=True, quiet=True)
    layout = tmp_path / "mirror"
    copied = zoo_oci.copy(registry.at(f"{repo}:1.0.0"), f"oci:{layout}:1.0.0", plain_http=True)
    assert copied == digest
    assert (layout / "blobs/sha256" / digest.removeprefix("sha256:")).is_file()
    assert zoo_oci.inspect(f"oci:{layout}:1.0.0").digest == digest

    back = f"{repo}-back:1.0.0"
    assert zoo_oci.copy(f"oci:{layout}:1.0.0", registry.at(back), plain_http=True) == digest
    assert manifest_digest(registry, back) == digest

    from_layout = zoo_oci.pull(f"oci:{layout}:1.0.0", tmp_path / "from-layout", quiet=True)
    from_registry = zoo_oci.pull(registry.at(f"{repo}:1.0.0"), tmp_path / "from-registry", plain_http=True, quiet=True)
    for out in (from_layout, from_registry):
        assert isinstance(out, Path)
        assert_same_tree(suite, out)
        record = json.loads((out / ".zoo-oci.json").read_text())
        assert record["manifest"] == digest
        assert (out / "scripts/infer.py").stat().st_mode & 0o111, "executable scripts stay executable"
        assert not (out / "scripts/common.py").stat().st_mode & 0o111


def test_pull_selects_classes_variants_frameworks_and_globs(registry, tmp_path, repo):
    suite = small_suite(tmp_path)
    ref = registry.at(f"{repo}:1.0.0")
    zoo_oci.push(suite, ref, plain_http=True, quiet=True)
    n = iter(range(100))

    def pull(**selection) -> list[str]:
        dest = tmp_path / f"out-{next(n)}"
        got = zoo_oci.pull(ref, dest, plain_http=True, quiet=True, **selection)
        assert got == dest
        assert (dest / ".zoo-oci.json").is_file()
        for rel in files_of(dest):
            assert (dest / rel).read_bytes() == (suite / rel).read_bytes(), rel
        return files_of(dest)

    models = ["models/model.safetensors", "models/onnx/extra/weights.bin", "models/onnx/model.onnx"]
    scripts = ["scripts/common.py", "scripts/infer.py", "scripts/validate.py"]
    assert pull() == SMALL_FILES
    assert pull(only=["model"]) == models
    assert pull(only=["model"], variant="safetensors") == ["models/model.safetensors"]
    assert pull(only=["model"], framework="onnx") == models[1:]
    assert pull(variant="onnx-opset13") == [f for f in SMALL_FILES if f != "models/model.safetensors"]
    assert pull(only=["scripts", "readme"]) == sorted(["README.md", *scripts])
    assert pull(include=["*.py"]) == scripts
    assert pull(exclude=["*.csv"]) == [f for f in SMALL_FILES if not f.endswith(".csv")]
    assert pull(only=["scripts"], exclude=["common.py"]) == scripts[1:]


def test_pull_into_a_foreign_folder_needs_force(registry, tmp_path, repo):
    suite = small_suite(tmp_path)
    ref = registry.at(f"{repo}:1.0.0")
    zoo_oci.push(suite, ref, plain_http=True, quiet=True)
    dest = tmp_path / "mine"
    write(dest, "precious.txt", "keep me\n")
    with pytest.raises(zoo_oci.ZooError) as refused:
        zoo_oci.pull(ref, dest, plain_http=True, quiet=True)
    assert "force" in (refused.value.hint or ""), refused.value.hint
    assert (dest / "precious.txt").read_text() == "keep me\n"
    # force writes the suite's files into it and keeps the files that were there.
    assert zoo_oci.pull(ref, dest, force=True, plain_http=True, quiet=True) == dest
    assert (dest / "precious.txt").read_text() == "keep me\n"
    (dest / "precious.txt").unlink()
    assert_same_tree(suite, dest)
    write(dest, "precious.txt", "keep me\n")
    # An earlier pull's folder is zoo-oci's own: pulling into it again needs no force, and
    # replaces only the suite's files.
    assert zoo_oci.pull(ref, dest, only=["readme"], plain_http=True, quiet=True) == dest
    assert files_of(dest) == ["README.md", "precious.txt"]


# --------------------------------------------------------------------------------------------
# the console command
# --------------------------------------------------------------------------------------------


def test_the_wheel_installs_the_zoo_oci_command():
    command = zoo_command()
    assert os.access(command, os.X_OK), command
    scripts = Path(sysconfig.get_path("scripts"))
    assert command.parent == scripts
    found = shutil.which("zoo-oci")
    assert (
        found is not None and Path(found).resolve() == command.resolve()
    ), f"`zoo-oci` on PATH is {found}, not the wheel's {command}: put {scripts} first on PATH"
    out = zoo_cli("--version")
    assert out.returncode == 0, out.stderr
    version = importlib.metadata.version("zoo-oci")
    assert re.fullmatch(rf"zoo-oci {re.escape(version)}\s*", out.stdout), (out.stdout, version)
    helped = zoo_cli("--help")
    assert helped.returncode == 0 and "pull" in helped.stdout and "cache" in helped.stdout, helped.stdout
