"""The shared cache: `pull(ref)` without a destination gives a snapshot folder of read-only hard
links into a content-addressed file store; what is cached is never downloaded again (counted in
the registry's log), by the same suite or another version sharing layers; ZOO_OCI_OFFLINE;
`zoo_oci.cache` ls/rm/prune and the `zoo-oci cache` command; two processes pulling at once."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import zoo_oci
from conftest import (
    assert_same_tree,
    bench,
    descriptor,
    pseudo_random,
    safetensors_model,
    small_suite,
    tree,
    write,
    zoo_cli,
)


def hex_of(digest: str) -> str:
    assert digest.startswith("sha256:") and len(digest) == 71, digest
    return digest.removeprefix("sha256:")


def layer_digests(registry, repo_tag: str) -> set[str]:
    return {l["digest"] for l in registry.manifest(repo_tag)["layers"]}


def stored_inodes(cache: Path) -> set[tuple[int, int]]:
    """(device, inode) of every file in the cache's file store, `$ZOO_OCI_CACHE/files/`."""
    assert (cache / "files").is_dir(), f"no file store in {cache}: {sorted(os.listdir(cache))}"
    return {(p.stat().st_dev, p.stat().st_ino) for p in (cache / "files").rglob("*") if p.is_file()}


def assert_snapshot(path: Path, cache: Path, digest: str, suite: Path | None) -> None:
    """`path` is the snapshot of `digest` in `cache`: files are read-only hard links into the
    file store, holding `suite`'s files byte for byte (when given)."""
    assert isinstance(path, Path), repr(path)
    assert path.resolve() == (cache / "snapshots" / hex_of(digest)).resolve(), path
    assert (path / ".zoo-oci.json").is_file()
    store = stored_inodes(cache)
    files = [p for p in path.rglob("*") if p.is_file() and p.name != ".zoo-oci.json"]
    assert files, f"an empty snapshot: {path}"
    for p in files:
        st = p.stat()
        assert st.st_nlink >= 2, f"{p} is not a hard link (st_nlink {st.st_nlink})"
        assert (st.st_dev, st.st_ino) in store, f"{p} is not linked from {cache / 'files'}"
        assert st.st_mode & 0o222 == 0, f"{p} is writable: mode {st.st_mode & 0o777:o}"
    if suite is not None:
        assert_same_tree(suite, path)


def two_versions(tmp_path: Path) -> tuple[Path, Path]:
    """The small suite 1.0.0, and 2.0.0 with another safetensors file: they share every layer
    but the safetensors variant's and the docs layer (its zoo.yaml says 2.0.0)."""
    v1 = small_suite(tmp_path, name="v1")
    v2 = small_suite(tmp_path, name="v2", yaml=descriptor(version='"2.0.0"'), weights_seed=4)
    return v1, v2


# --------------------------------------------------------------------------------------------


def test_a_pull_without_destination_gives_a_snapshot_of_read_only_hard_links(registry, tmp_path, repo, zoo_cache):
    suite = small_suite(tmp_path)
    ref = registry.at(f"{repo}:1.0.0")
    digest = zoo_oci.push(suite, ref, plain_http=True, quiet=True)
    layers = layer_digests(registry, f"{repo}:1.0.0")

    mark = registry.mark()
    snapshot = zoo_oci.pull(ref, plain_http=True, quiet=True)
    assert_snapshot(snapshot, zoo_cache, digest, suite)
    assert zoo_oci.cache.root() == zoo_cache
    record = json.loads((snapshot / ".zoo-oci.json").read_text())
    assert record["manifest"] == digest
    first = registry.downloaded(mark, repo)
    assert set(first) == layers and set(first.values()) == {1}, first

    # The same pull again downloads nothing and gives the same folder.
    mark = registry.mark()
    assert zoo_oci.pull(ref, plain_http=True, quiet=True) == snapshot
    assert registry.downloaded(mark, repo) == {}, "a second pull downloads no blob"
    assert_snapshot(snapshot, zoo_cache, digest, suite)

    # A pull into a folder takes the cached layers instead of downloading them.
    mark = registry.mark()
    out = zoo_oci.pull(ref, tmp_path / "out", plain_http=True, quiet=True)
    assert registry.downloaded(mark, repo) == {}, "a pull with a destination takes what the cache holds"
    assert_same_tree(suite, out)


def test_a_second_version_downloads_only_the_layers_it_does_not_share(registry, tmp_path, repo, zoo_cache):
    v1, v2 = two_versions(tmp_path)
    ref1, ref2 = registry.at(f"{repo}:1.0.0"), registry.at(f"{repo}:2.0.0")
    d1 = zoo_oci.push(v1, ref1, plain_http=True, quiet=True)
    d2 = zoo_oci.push(v2, ref2, plain_http=True, quiet=True)
    m2 = registry.manifest(f"{repo}:2.0.0")
    new = layer_digests(registry, f"{repo}:2.0.0") - layer_digests(registry, f"{repo}:1.0.0")
    changed = "sha256:" + hashlib.sha256((v2 / "models/model.safetensors").read_bytes()).hexdigest()
    assert changed in new and len(new) == 2 and len(m2["layers"]) == 9, "the test's premise: 7 of 9 layers shared"

    s1 = zoo_oci.pull(ref1, plain_http=True, quiet=True)
    mark = registry.mark()
    s2 = zoo_oci.pull(ref2, plain_http=True, quiet=True)
    got = registry.downloaded(mark, repo)
    n = registry.downloaded_bytes(mark, repo)
    print(f"second pull downloaded {n} bytes")
    total = sum(l["size"] for l in m2["layers"])
    bench(
        "cache: second version's pull downloaded",
        n,
        "bytes",
        of_bytes=total,
        layers=len(got),
        of_layers=len(m2["layers"]),
    )

    assert set(got.values()) == {1}, got
    assert set(got) - {m2["config"]["digest"]} == new, f"downloaded {sorted(got)}, new layers {sorted(new)}"
    sizes = {l["digest"]: l["size"] for l in m2["layers"]} | {m2["config"]["digest"]: m2["config"]["size"]}
    assert n == sum(sizes[d] for d in got)
    assert n < total / 2

    assert_snapshot(s1, zoo_cache, d1, v1)
    assert_snapshot(s2, zoo_cache, d2, v2)
    for rel in ("models/onnx/model.onnx", "scripts/infer.py", "data/test/sample-0.csv"):
        assert (s1 / rel).stat().st_ino == (s2 / rel).stat().st_ino, f"{rel} is stored once"
    assert (s1 / "models/model.safetensors").stat().st_ino != (s2 / "models/model.safetensors").stat().st_ino


def test_offline_pulls_come_from_the_cache_alone(registry, tmp_path, repo, zoo_cache, monkeypatch):
    v1, v2 = two_versions(tmp_path)
    ref1, ref2 = registry.at(f"{repo}:1.0.0"), registry.at(f"{repo}:2.0.0")
    d1 = zoo_oci.push(v1, ref1, plain_http=True, quiet=True)
    zoo_oci.push(v2, ref2, plain_http=True, quiet=True)
    zoo_oci.tag(ref1, "never-pulled", plain_http=True)
    s1 = zoo_oci.pull(ref1, plain_http=True, quiet=True)
    zoo_oci.pull(ref2, only=["model"], plain_http=True, quiet=True)  # 2.0.0 only in part

    monkeypatch.setenv("ZOO_OCI_OFFLINE", "1")
    before = registry.mark()
    assert zoo_oci.pull(ref1, plain_http=True, quiet=True) == s1
    assert_snapshot(s1, zoo_cache, d1, v1)

    with pytest.raises(zoo_oci.NotFoundError) as never:
        zoo_oci.pull(registry.at(f"{repo}:never-pulled"), plain_http=True, quiet=True)
    assert never.value.exit_code == 4
    assert never.value.hint and "ZOO_OCI_OFFLINE" in never.value.hint, never.value.hint

    with pytest.raises(zoo_oci.NotFoundError) as partly:
        zoo_oci.pull(ref2, plain_http=True, quiet=True)
    assert partly.value.hint and "ZOO_OCI_OFFLINE" in partly.value.hint, partly.value.hint
    # What is cached of it still pulls offline.
    models = zoo_oci.pull(ref2, only=["model"], plain_http=True, quiet=True)
    assert (models / "models/model.safetensors").read_bytes() == (v2 / "models/model.safetensors").read_bytes()

    assert registry.requests(before) == [], "offline, the registry saw no request at all"


def test_cache_ls_rm_and_prune(registry, tmp_path, repo, zoo_cache):
    v1, v2 = two_versions(tmp_path)
    ref1, ref2 = registry.at(f"{repo}:1.0.0"), registry.at(f"{repo}:2.0.0")
    d1 = zoo_oci.push(v1, ref1, plain_http=True, quiet=True)
    d2 = zoo_oci.push(v2, ref2, plain_http=True, quiet=True)
    assert zoo_oci.cache.ls() == []
    s1 = zoo_oci.pull(ref1, plain_http=True, quiet=True)
    s2 = zoo_oci.pull(ref2, plain_http=True, quiet=True)

    listed = {c.digest: c for c in zoo_oci.cache.ls()}
    assert set(listed) == {d1, d2}
    for digest, folder, snapshot, version, ref in ((d1, v1, s1, "1.0.0", ref1), (d2, v2, s2, "2.0.0", ref2)):
        c = listed[digest]
        assert (c.name, c.version) == ("tiny", version)
        assert Path(c.path).resolve() == snapshot.resolve()
        files = tree(folder)
        assert c.files in (len(files), len(files) + 1), (c.files, len(files))  # with or without .zoo-oci.json
        payload = sum(len(data) for data, _ in files.values())
        record = (snapshot / ".zoo-oci.json").stat().st_size
        assert payload <= c.size <= payload + record, (c.size, payload)
        assert any(ref in s or ref.split("/", 1)[1] in s for s in c.sources), c.sources
        assert any(version in r for r in c.refs), c.refs
        assert c.last_used

    # The command line sees what Python pulled.
    out = zoo_cli("cache", "ls", "--format", "json")
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    assert Path(cli["root"]).resolve() == zoo_cache.resolve()
    assert {s["digest"] for s in cli["snapshots"]} == {d1, d2}

    # rm one: its own files go (the safetensors file and zoo.yaml); the shared ones stay.
    freed = zoo_oci.cache.rm(d1)
    assert isinstance(freed, int)
    assert freed >= (v1 / "models/model.safetensors").stat().st_size, freed
    assert not s1.exists()
    assert [c.digest for c in zoo_oci.cache.ls()] == [d2]
    assert_snapshot(s2, zoo_cache, d2, v2)
    mark = registry.mark()
    assert zoo_oci.pull(ref2, plain_http=True, quiet=True) == s2
    assert registry.downloaded(mark, repo) == {}, "the other version still loads from the cache"

    pruned = zoo_oci.cache.prune()
    assert isinstance(pruned, int) and pruned >= 0
    assert_snapshot(s2, zoo_cache, d2, v2)  # prune keeps what a snapshot uses

    # rm by the reference as pulled.
    assert zoo_oci.cache.rm(ref2) > 0
    assert not s2.exists()
    assert zoo_oci.cache.ls() == []
    out = zoo_cli("cache", "ls", "--format", "json")
    assert out.returncode == 0 and json.loads(out.stdout)["snapshots"] == [], out.stdout
    assert isinstance(zoo_oci.cache.prune(), int)


PULL_IN_A_PROCESS = """
import sys, time, zoo_oci
print("ready", flush=True)
sys.stdin.readline()
started = time.time()
path = zoo_oci.pull(sys.argv[1], plain_http=True, quiet=True)
print(started, time.time(), flush=True)
print(path, flush=True)
"""


def test_two_processes_pulling_the_same_suite_at_once_download_each_layer_once(
    registry, slow_registry, tmp_path, repo, zoo_cache
):
    """Through the throttling proxy, so that both pulls are surely running at the same time."""
    suite = small_suite(tmp_path)
    write(suite, "models/model.safetensors", safetensors_model(pseudo_random(16_000_000, 9)))  # 1.6 s at 10 MB/s
    digest = zoo_oci.push(suite, registry.at(f"{repo}:1.0.0"), plain_http=True, quiet=True)
    layers = layer_digests(registry, f"{repo}:1.0.0")
    ref = slow_registry.at(f"{repo}:1.0.0")

    mark = registry.mark()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PULL_IN_A_PROCESS, ref],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    started = time.monotonic()
    for p in procs:  # go, both at once
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=120) for p in procs]
    elapsed = time.monotonic() - started
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
    paths = [out.strip().splitlines()[-1] for out, _ in results]
    assert paths[0] == paths[1], paths
    (a0, a1), (b0, b1) = ([float(t) for t in out.strip().splitlines()[-2].split()] for out, _ in results)
    assert a0 < b1 and b0 < a1, f"the two pulls did not run at the same time: {a0}-{a1}, {b0}-{b1}"
    snapshot = Path(paths[0])
    assert_snapshot(snapshot, zoo_cache, digest, suite)

    got = registry.downloaded(mark, repo)
    assert set(got) == layers, got
    assert all(n == 1 for n in got.values()), f"a layer was downloaded twice: {got}"
    bench("cache: two concurrent pulls, wall time", elapsed, "s")


def test_an_unreachable_registry_is_stood_in_for_by_the_cache_with_a_warning(tmp_path, repo, zoo_cache):
    """As with the Hugging Face cache: a model pulled once still loads on a plane. A registry of
    its own, stopped after the first pull."""
    from conftest import Registry

    own = Registry(tmp_path / "registry")
    try:
        ref = own.at(f"{repo}:1.0.0")
        digest = zoo_oci.push(small_suite(tmp_path), ref, plain_http=True, quiet=True)
        snapshot = zoo_oci.pull(ref, only="model", plain_http=True, quiet=True)
    finally:
        own.stop()
    with pytest.warns(zoo_oci.ZooWarning, match="could not be reached"):
        assert zoo_oci.pull(ref, only="model", plain_http=True, quiet=True) == snapshot
    with pytest.warns(zoo_oci.ZooWarning, match="could not be reached"):
        assert zoo_oci.inspect(ref, plain_http=True).digest == digest
    # What the cache does not hold is the registry's failure, as without a cache.
    with pytest.raises(zoo_oci.TransportError):
        zoo_oci.pull(ref, plain_http=True, quiet=True, retry_timeout=0)
