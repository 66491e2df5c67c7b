"""The Python API as wide as the command line: diff, tags, rm, gc, login and logout against real
registries and layouts (each compared with what `zoo-oci … --format json` says), and
`zoo_oci.Client`, which holds registry and cache options once: its plain_http and cache_dir
applied to every call, an offline client failing at once without a request, a call's own
keyword winning, two clients with two caches side by side in threads; and `dir(zoo_oci)`
showing the API and nothing else."""

from __future__ import annotations

import inspect as pyinspect
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import zoo_oci
from conftest import PASSWORD, USER, assert_same_tree, descriptor, files_of, small_suite, zoo_cli
from test_errors import assert_error, assert_no_secret, cli_error

#: What `dir(zoo_oci)` shows: the API the README documents, nothing imported for its own use.
PUBLIC_API = {
    "__version__",
    # operations
    "pull",
    "inspect",
    "index",
    "push",
    "check",
    "init",
    "copy",
    "tag",
    "tags",
    "diff",
    "rm",
    "gc",
    "login",
    "logout",
    "sign",
    "verify",
    "validate",
    "RegistryOptions",
    "Client",
    # data
    "Suite",
    "Variant",
    "Layer",
    "CheckResult",
    "Diff",
    "DiffSide",
    "ClassDiff",
    "TagEntry",
    "RmResult",
    "GcResult",
    "MetricCheck",
    "ValidateResult",
    # errors and warnings
    "ZooError",
    "UsageError",
    "AuthError",
    "NotFoundError",
    "IntegrityError",
    "TransportError",
    "ZooWarning",
    # submodules
    "cache",
    "hub",
}

#: The operations a Client has as methods: the module's functions.
OPERATIONS = [
    "pull",
    "inspect",
    "index",
    "push",
    "check",
    "init",
    "copy",
    "tag",
    "tags",
    "diff",
    "rm",
    "gc",
    "login",
    "logout",
    "sign",
    "verify",
    "validate",
]


def cli_json(*args: str, env=None) -> dict:
    out = zoo_cli(*args, "--format", "json", env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def two_versions(tmp_path: Path, base: str) -> tuple[str, str, str, str]:
    """The small suite as BASE:1.0.0 and, with other safetensors weights and version 1.1.0, as
    BASE:1.1.0 (a layout or a plain-HTTP registry repository): (ref1, digest1, ref2, digest2)."""
    plain = not base.startswith("oci:")
    one = small_suite(tmp_path / "one")
    two = small_suite(tmp_path / "two", yaml=descriptor(version='"1.1.0"'), weights_seed=4)
    d1 = zoo_oci.push(one, f"{base}:1.0.0", plain_http=plain, quiet=True)
    d2 = zoo_oci.push(two, f"{base}:1.1.0", plain_http=plain, quiet=True)
    return f"{base}:1.0.0", d1, f"{base}:1.1.0", d2


# --------------------------------------------------------------------------------------------
# dir(zoo_oci)
# --------------------------------------------------------------------------------------------


def test_dir_shows_the_public_api_and_nothing_else():
    assert set(dir(zoo_oci)) == PUBLIC_API
    assert set(zoo_oci.__all__) == PUBLIC_API
    for name in PUBLIC_API:
        assert getattr(zoo_oci, name) is not None, name
    for leaked in ("os", "json", "Dict", "List", "Optional", "Path", "Any", "annotations", "warnings"):
        assert not hasattr(zoo_oci, leaked) or leaked == "annotations", leaked
        assert leaked not in dir(zoo_oci), leaked


# --------------------------------------------------------------------------------------------
# diff
# --------------------------------------------------------------------------------------------


def test_diff_of_two_pushed_suites_shows_the_changed_file_as_the_cli_does(registry, tmp_path, repo):
    a, d1, b, d2 = two_versions(tmp_path, registry.at(repo))
    d = zoo_oci.diff(a, b, plain_http=True)
    assert isinstance(d, zoo_oci.Diff)
    assert (d.a.digest, d.b.digest) == (d1, d2)
    assert (d.a.version, d.b.version, d.a.name) == ("1.0.0", "1.1.0", "tiny")
    # The weights, and the descriptor (its version) that the suite ships as a file.
    assert sorted(d.changed) == ["models/model.safetensors", "zoo.yaml"]
    assert d.added == [] and d.removed == []
    [model] = [c for c in d.classes if c.class_ == "model"]
    [change] = model.changed
    assert change["old"]["digest"] != change["new"]["digest"]
    assert [(m["field"], m["old"], m["new"]) for m in d.metadata] == [("version", "1.0.0", "1.1.0")]
    assert d and not d.identical
    assert "~ models/model.safetensors" in str(d)
    assert d.raw == cli_json("diff", a, b, "--plain-http")

    same = zoo_oci.diff(a, a, plain_http=True)
    assert same.identical and not same
    assert same.changed == []


def test_diff_takes_suites_and_compares_a_layout_with_a_registry(registry, tmp_path, repo):
    a, d1, _, d2 = two_versions(tmp_path, registry.at(repo))
    layout = f"oci:{tmp_path / 'zoo'}"
    zoo_oci.copy(a, f"{layout}:1.0.0", plain_http=True, quiet=True)
    suite = zoo_oci.inspect(f"{layout}:1.0.0")
    d = zoo_oci.diff(suite, registry.at(f"{repo}:1.1.0"), plain_http=True)
    assert (d.a.digest, d.b.digest) == (d1, d2)
    assert sorted(d.changed) == ["models/model.safetensors", "zoo.yaml"]
    assert d.a.location == f"{layout}@{d1}"


# --------------------------------------------------------------------------------------------
# tags
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["layout", "registry"])
def test_tags_lists_both_tags_with_their_suites(where, registry, tmp_path, repo):
    base = f"oci:{tmp_path / 'zoo'}" if where == "layout" else registry.at(repo)
    plain = where == "registry"
    _, d1, _, d2 = two_versions(tmp_path, base)
    listed = zoo_oci.tags(base, plain_http=plain)
    assert [t.tag for t in listed] == ["1.0.0", "1.1.0"]
    assert all(t.digest is None for t in listed), "digests are read with long=True only"
    long = zoo_oci.tags(f"{base}:1.0.0", long=True, plain_http=plain)  # a tag in it is ignored
    assert [(t.tag, t.digest, t.name, t.version) for t in long] == [
        ("1.0.0", d1, "tiny", "1.0.0"),
        ("1.1.0", d2, "tiny", "1.1.0"),
    ]
    flags = ["--plain-http"] if plain else []
    assert [t["tag"] for t in cli_json("tags", base, "--long", *flags)["tags"]] == [t.tag for t in long]


def test_tags_of_a_missing_repository_is_not_found_as_the_cli_says(registry, repo):
    ref = registry.at(f"{repo}-missing")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.tags(ref, plain_http=True)
    assert_error(raised.value, zoo_oci.NotFoundError, cli_error("tags", ref, "--plain-http"))


# --------------------------------------------------------------------------------------------
# rm and gc
# --------------------------------------------------------------------------------------------


def blob_files(layout: Path) -> set[str]:
    return {"sha256:" + p.name for p in (layout / "blobs" / "sha256").iterdir()}


def test_rm_forgets_a_layout_tag_and_gc_frees_its_blobs(tmp_path):
    layout = tmp_path / "zoo"
    a, d1, b, d2 = two_versions(tmp_path, f"oci:{layout}")
    before = blob_files(layout)

    removed = zoo_oci.rm(b)
    assert removed == zoo_oci.RmResult(digest=d2, tags=["1.1.0"], manifest_deleted=False)
    assert [t.tag for t in zoo_oci.tags(f"oci:{layout}")] == ["1.0.0"]
    assert blob_files(layout) == before, "a layout keeps the blobs until gc"

    dry = zoo_oci.gc(f"oci:{layout}", dry_run=True)
    assert dry.dry_run and d2 in dry.removed and dry.bytes > 0
    assert blob_files(layout) == before, "a dry run removes nothing"

    collected = zoo_oci.gc(layout)  # a Path is read as a layout
    assert sorted(collected.removed) == sorted(dry.removed)
    assert collected.bytes == dry.bytes and not collected.dry_run
    assert blob_files(layout) == before - set(collected.removed)
    assert d2 not in blob_files(layout) and d1 in blob_files(layout)
    assert collected.kept == len(blob_files(layout))
    # What the tag left reaches is whole: the first version pulls byte for byte.
    assert_same_tree(tmp_path / "one" / "suite", zoo_oci.pull(a, tmp_path / "out", quiet=True))
    assert zoo_oci.gc(f"oci:{layout}").removed == []


def test_rm_deletes_a_manifest_in_a_registry(registry, tmp_path, repo):
    a, d1, b, d2 = two_versions(tmp_path, registry.at(repo))
    removed = zoo_oci.rm(b, plain_http=True)
    assert removed.digest == d2 and removed.manifest_deleted
    assert "1.1.0" in removed.tags
    response = registry.get(f"/v2/{repo}/manifests/{d2}", {"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert response.status == 404, response.body[:200]
    with pytest.raises(zoo_oci.NotFoundError):
        zoo_oci.inspect(b, plain_http=True)
    assert zoo_oci.inspect(a, plain_http=True).digest == d1, "the other version stays"


def test_rm_and_gc_refuse_what_they_cannot_do_as_the_cli_does(registry, tmp_path, repo):
    layout = f"oci:{tmp_path / 'zoo'}"
    zoo_oci.push(small_suite(tmp_path), f"{layout}:1.0.0", quiet=True)
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.rm(layout)  # no tag, no digest
    assert_error(raised.value, zoo_oci.UsageError, cli_error("rm", layout))
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.gc(registry.at(repo))
    e = assert_error(raised.value, zoo_oci.UsageError, cli_error("gc", registry.at(repo)))
    assert "garbage-collect" in e.hint


# --------------------------------------------------------------------------------------------
# login and logout
# --------------------------------------------------------------------------------------------


def test_login_writes_the_docker_config_and_logout_removes_it(secure_registry, tmp_path, repo, zoo_cache):
    config_dir = Path(os.environ["DOCKER_CONFIG"])  # this test's own (conftest)
    config = config_dir / "config.json"
    ca = str(secure_registry.ca)
    addr = secure_registry.addr

    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.login(addr, USER, "wrong-password", ca_file=ca)
    cli = cli_error("login", addr, "-u", USER, "-p", "wrong-password", "--ca-file", ca)
    assert_no_secret(assert_error(raised.value, zoo_oci.AuthError, cli))
    assert not config.exists() or addr not in json.loads(config.read_text()).get("auths", {}), "refused: nothing kept"

    written = zoo_oci.login(f"https://{addr}/", USER, PASSWORD, ca_file=ca)
    assert written == config
    assert addr in json.loads(config.read_text())["auths"]
    # Every later call uses them: a push to the registry that asks for credentials.
    digest = zoo_oci.push(small_suite(tmp_path), secure_registry.at(f"{repo}:1.0.0"), ca_file=ca, quiet=True)
    assert zoo_oci.inspect(secure_registry.at(f"{repo}:1.0.0"), ca_file=ca).digest == digest

    assert zoo_oci.logout(addr) is True
    assert addr not in json.loads(config.read_text()).get("auths", {})
    assert zoo_oci.logout(addr) is False, "nothing left to remove"
    with pytest.raises(zoo_oci.AuthError):
        zoo_oci.inspect(secure_registry.at(f"{repo}:1.0.0"), ca_file=ca)

    with pytest.raises(zoo_oci.UsageError):
        zoo_oci.login(addr, USER, "", ca_file=ca)
    with pytest.raises(zoo_oci.UsageError):
        zoo_oci.login(f"{addr}/some/repo", USER, PASSWORD, ca_file=ca)


def test_a_client_reads_credentials_from_its_docker_config(secure_registry, tmp_path, repo):
    from conftest import docker_config

    ref = secure_registry.at(f"{repo}:1.0.0")
    ca = str(secure_registry.ca)
    mine = docker_config(tmp_path / "mine", secure_registry.addr, USER, PASSWORD)
    client = zoo_oci.Client(ca_file=ca, docker_config=mine)
    digest = client.push(small_suite(tmp_path), ref, quiet=True)
    assert client.inspect(ref).digest == digest
    with pytest.raises(zoo_oci.AuthError):
        zoo_oci.inspect(ref, ca_file=ca)  # $DOCKER_CONFIG holds nothing for it
    # login writes the config the client reads (as login --docker-config FILE), not $DOCKER_CONFIG's.
    fresh = tmp_path / "fresh" / "config.json"
    fresh.parent.mkdir()
    writer = zoo_oci.Client(ca_file=ca, docker_config=fresh)
    assert writer.login(secure_registry.addr, USER, PASSWORD) == fresh
    assert writer.inspect(ref).digest == digest, "what login wrote is read back"
    assert zoo_oci.login(secure_registry.addr, USER, PASSWORD, ca_file=ca, docker_config=fresh) == fresh
    # logout removes them from the config the client holds (as logout --docker-config FILE).
    assert writer.logout(secure_registry.addr) is True
    assert secure_registry.addr not in json.loads(fresh.read_text()).get("auths", {})
    with pytest.raises(zoo_oci.AuthError):
        writer.inspect(ref)
    assert not (Path(os.environ["DOCKER_CONFIG"]) / "config.json").exists(), "$DOCKER_CONFIG's untouched"


# --------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------


def test_client_methods_are_the_module_functions_with_its_options_as_defaults(tmp_path):
    client = zoo_oci.Client(plain_http=True, cache_dir=tmp_path / "c", retry_timeout=0)
    for name in OPERATIONS:
        function = getattr(zoo_oci, name)
        assert getattr(zoo_oci.Client, name) is function, name
        method = getattr(client, name)
        assert method.__doc__ == function.__doc__ and method.__name__ == name
        held = pyinspect.signature(method).parameters
        assert list(held) == list(pyinspect.signature(function).parameters), name
        if "plain_http" in held:
            assert held["plain_http"].default is True, name
        if "cache_dir" in held:
            assert held["cache_dir"].default == str(tmp_path / "c"), name
    assert "cache_dir" in pyinspect.signature(client.pull).parameters
    assert "plain_http" not in pyinspect.signature(client.check).parameters
    assert repr(client) == f"zoo_oci.Client(plain_http=True, retry_timeout=0.0, cache_dir={str(tmp_path / 'c')!r})"
    assert client.options["plain_http"] is True
    with pytest.raises(TypeError):
        zoo_oci.Client(cert_file="c.pem")


#: What takes the registry options: every function that may reach a registry, and Client.
REGISTRY_FUNCTIONS = ["pull", "inspect", "index", "push", "copy", "tag", "tags", "diff", "rm", "login"]


def test_the_registry_options_are_declared_once_and_every_registry_function_takes_them_all():
    """One declaration, `zoo_oci.RegistryOptions`; each registry function takes it as
    `**options`, and shows every option (with its default) to help() and inspect.signature, so a
    Client's method still holds them; a misspelt option is a TypeError, as any wrong keyword."""
    import pydoc
    import sys
    import typing

    names = list(typing.get_type_hints(zoo_oci.RegistryOptions))
    assert names == [
        "plain_http", "ca_file", "cert_file", "key_file", "insecure", "timeout", "retry_timeout",
        "docker_config", "concurrency", "cache_dir", "offline",
    ]  # fmt: skip
    takers = [getattr(zoo_oci, n) for n in REGISTRY_FUNCTIONS] + [zoo_oci.hub.load, zoo_oci.hub.list, zoo_oci.hub.help]
    for function in takers + [zoo_oci.Client]:
        parameters = pyinspect.signature(function).parameters
        for name in names:
            assert name in parameters, f"{function.__qualname__} does not show {name}"
            assert parameters[name].kind is pyinspect.Parameter.KEYWORD_ONLY
            assert parameters[name].default == (False if name in ("plain_http", "insecure") else None)
        assert "options" not in parameters, function.__qualname__
        assert "retry_timeout" in pydoc.render_doc(function), function.__qualname__
    assert "providers" not in pyinspect.signature(zoo_oci.hub.load).parameters
    assert pyinspect.signature(zoo_oci.hub.load).parameters["kwargs"].kind is pyinspect.Parameter.VAR_KEYWORD
    # Declared in one place: no function lists them one by one.
    for module in (zoo_oci, zoo_oci.hub):
        source = pyinspect.getsource(module)
        assert "retry_timeout: Optional[float]" not in source, module.__name__
        assert "plain_http: bool = False" not in source, module.__name__
    assert "retry_timeout: Optional[float]" in pyinspect.getsource(sys.modules["zoo_oci._options"])
    arguments = {
        "push": ("nowhere", "oci:./nowhere"),
        "copy": ("oci:./nowhere:1", "oci:./elsewhere"),
        "tag": ("oci:./nowhere:1", "stable"),
        "diff": ("oci:./nowhere:1", "oci:./nowhere:2"),
        "login": ("localhost:1", "me", "secret"),
    }
    for function in takers:
        if function is zoo_oci.hub.load:
            continue  # its other keywords go to the loader
        with pytest.raises(TypeError, match="plain_htp"):
            function(*arguments.get(function.__name__, ("oci:./nowhere:1",)), plain_htp=True)
    with pytest.raises(TypeError, match="plain_htp"):
        zoo_oci.Client(plain_htp=True)
    # A client's method holds the options through the same declaration.
    client = zoo_oci.Client(offline=True, concurrency=2)
    for name in REGISTRY_FUNCTIONS:
        held = pyinspect.signature(getattr(client, name)).parameters
        assert held["offline"].default is True and held["concurrency"].default == 2, name


def test_a_client_applies_plain_http_and_its_cache_dir(registry, tmp_path, repo, zoo_cache):
    mine = tmp_path / "client-cache"
    client = zoo_oci.Client(plain_http=True, cache_dir=mine)
    suite = small_suite(tmp_path)
    ref = registry.at(f"{repo}:1.0.0")
    digest = client.push(suite, ref, quiet=True)
    snapshot = client.pull(ref, only="model", quiet=True)
    assert snapshot.parent == mine / "snapshots"
    assert snapshot.name == digest.split(":")[1]
    assert files_of(snapshot) == ["models/model.safetensors", "models/onnx/extra/weights.bin", "models/onnx/model.onnx"]
    assert os.environ["ZOO_OCI_CACHE"] == str(zoo_cache), "the environment is not changed"
    assert not zoo_cache.exists(), "nothing went to the environment's cache"
    assert client.inspect(ref).digest == digest
    assert [t.tag for t in client.tags(registry.at(repo))] == ["1.0.0"]
    assert [s.digest for s in client.index(registry.at(repo))] == [digest]
    # A pull into a folder takes what this client's cache holds (no layer of the model class
    # is downloaded again).
    mark = registry.mark()
    out = client.pull(ref, tmp_path / "out", quiet=True)
    assert_same_tree(suite, out)
    model_layers = {l.digest for l in client.inspect(ref).layers if l.class_ == "model"}
    assert not model_layers & set(registry.downloaded(mark, repo)), "cached layers are copied, not downloaded"


def test_two_clients_with_two_caches_pull_side_by_side_in_threads(registry, tmp_path, repo, zoo_cache):
    ref = registry.at(f"{repo}:1.0.0")
    digest = zoo_oci.push(small_suite(tmp_path), ref, plain_http=True, quiet=True)
    clients = [zoo_oci.Client(plain_http=True, cache_dir=tmp_path / f"cache-{i}") for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        snapshots = list(pool.map(lambda c: c.pull(ref, quiet=True), clients))
    for i, snapshot in enumerate(snapshots):
        assert snapshot == tmp_path / f"cache-{i}" / "snapshots" / digest.split(":")[1]
        assert (snapshot / "models/model.safetensors").is_file()
    assert not (zoo_cache / "snapshots").exists(), "nothing was pulled into the environment's cache"


def test_an_offline_client_fails_at_once_for_what_no_one_pulled(registry, tmp_path, repo):
    ref = registry.at(f"{repo}:1.0.0")
    zoo_oci.push(small_suite(tmp_path), ref, plain_http=True, quiet=True)
    cache = tmp_path / "offline-cache"
    offline = zoo_oci.Client(plain_http=True, offline=True, cache_dir=cache)

    mark = registry.mark()
    started = time.monotonic()
    with pytest.raises(zoo_oci.ZooError) as raised:
        offline.pull(ref, quiet=True)
    took = time.monotonic() - started
    env = {"ZOO_OCI_OFFLINE": "1", "ZOO_OCI_CACHE": str(cache)}
    e = assert_error(raised.value, zoo_oci.NotFoundError, cli_error("pull", "--cache", "--plain-http", ref, env=env))
    assert "not in the cache" in e.message, e.message
    with pytest.raises(zoo_oci.NotFoundError):
        offline.inspect(ref)
    # Not even a registry that does not exist is tried.
    with pytest.raises(zoo_oci.NotFoundError):
        offline.pull("127.0.0.1:9/nobody/here:1.0", quiet=True)
    assert took < 5, f"offline failed after {took:.1f} s"
    registry.settle()
    assert registry.requests(mark) == [], "offline: no request reached the registry"

    # Once pulled through the same cache, the offline client has it, still without a request.
    online = zoo_oci.Client(plain_http=True, cache_dir=cache, offline=False)
    pulled = online.pull(ref, quiet=True)
    digest = online.inspect(ref).digest
    mark = registry.mark()
    assert offline.pull(ref, quiet=True) == pulled
    assert offline.inspect(ref).digest == digest
    registry.settle()
    assert registry.requests(mark) == []


def test_a_keyword_given_in_a_call_wins_over_the_clients(registry, tmp_path, repo, monkeypatch):
    ref = registry.at(f"{repo}:1.0.0")
    digest = zoo_oci.push(small_suite(tmp_path), ref, plain_http=True, quiet=True)
    client = zoo_oci.Client(plain_http=True, retry_timeout=0, cache_dir=tmp_path / "held")
    with pytest.raises(zoo_oci.TransportError) as raised:
        client.inspect(ref, plain_http=False)  # TLS to a plain-HTTP registry
    assert "plain" in (raised.value.hint or ""), raised.value.hint
    snapshot = client.pull(ref, cache_dir=tmp_path / "this-call", quiet=True)
    assert snapshot.parent == tmp_path / "this-call" / "snapshots"
    assert not (tmp_path / "held").exists()
    # offline=False wins over ZOO_OCI_OFFLINE=1 in the environment, for that client only.
    monkeypatch.setenv("ZOO_OCI_OFFLINE", "1")
    with pytest.raises(zoo_oci.NotFoundError):
        zoo_oci.inspect(ref, plain_http=True, cache_dir=tmp_path / "empty")
    assert zoo_oci.Client(plain_http=True, offline=False).inspect(ref).digest == digest


def test_hub_takes_a_client(registry, tmp_path, repo):
    ref = registry.at(f"{repo}:1.0.0")
    zoo_oci.push(small_suite(tmp_path), ref, plain_http=True, quiet=True)
    client = zoo_oci.Client(plain_http=True, cache_dir=tmp_path / "hub-cache")
    assert zoo_oci.hub.help(ref, client=client).startswith("# Tiny")
    assert [s.name for s in zoo_oci.hub.list(registry.at(repo), client=client)] == ["tiny"]
    weights = zoo_oci.hub.load(ref, framework="safetensors", client=client)
    assert list(weights) == ["w"]
    assert any((tmp_path / "hub-cache" / "snapshots").iterdir()), "loaded through the client's cache"
