# THROWAWAY: proves the conftest's registries and log counting with the debug CLI; delete after.
import json, os, subprocess, time
from pathlib import Path
import pytest
from conftest import small_suite, docker_config, pseudo_random, write, USER, PASSWORD, parse_requests

Z = "/work/main/target/debug/zoo-oci"

def z(*args, env=None):
    return subprocess.run([Z, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)

def test_plain_push_pull_counts(registry, tmp_path, repo):
    s = small_suite(tmp_path)
    ref = registry.at(f"{repo}:1.0.0")
    r = z("push", "-q", "--plain-http", str(s), ref); assert r.returncode == 0, r.stderr
    digest = r.stdout.strip()
    m = registry.manifest(f"{repo}:1.0.0")
    layers = {l["digest"] for l in m["layers"]}
    mark = registry.mark()
    r = z("pull", "-q", "--plain-http", ref, "-o", str(tmp_path / "out")); assert r.returncode == 0, r.stderr
    got = registry.downloaded(mark, repo)
    print(got, registry.downloaded_bytes(mark, repo))
    assert set(got) == layers and all(v == 1 for v in got.values())
    assert registry.downloaded_bytes(mark, repo) == sum(l["size"] for l in m["layers"])
    mark2 = registry.mark()
    r = z("pull", "-q", "--plain-http", ref, "-o", str(tmp_path / "out")); assert r.returncode == 0
    assert registry.downloaded(mark2, repo) == {}
    print([ (q.method, q.uri, q.status) for q in registry.requests(mark2)])

def test_secure(secure_registry, tmp_path, repo, monkeypatch):
    s = small_suite(tmp_path)
    ref = secure_registry.at(f"{repo}:1.0.0")
    t = time.monotonic()
    r = z("push", "-q", str(s), ref)
    print("untrusted:", time.monotonic() - t, r.returncode, r.stderr)
    assert r.returncode == 1
    t = time.monotonic()
    r = z("push", "-q", "--ca-file", str(secure_registry.ca), str(s), ref)
    print("no creds:", time.monotonic() - t, r.returncode, r.stderr)
    assert r.returncode == 3
    r = z("push", "-q", "--ca-file", str(secure_registry.ca), str(s), ref, env={"ZOO_OCI_USERNAME": USER, "ZOO_OCI_PASSWORD": "wrong"})
    print("wrong:", r.returncode, r.stderr); assert r.returncode == 3 and "wrong" not in r.stderr
    docker_config(Path(os.environ["DOCKER_CONFIG"]), secure_registry.addr, USER, PASSWORD)
    r = z("push", "-q", "--ca-file", str(secure_registry.ca), str(s), ref)
    print("docker config:", r.returncode, r.stderr); assert r.returncode == 0
    mark = secure_registry.mark()
    r = z("pull", "-q", "--ca-file", str(secure_registry.ca), ref, "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert len(secure_registry.downloaded(mark, repo)) == 8, secure_registry.downloaded(mark, repo)

def test_proxy(registry, slow_registry, tmp_path, repo):
    s = tmp_path / "s"
    write(s, "models/w.bin", os.urandom(20_000_000))
    write(s, "README.md", "# x\n")
    write(s, "zoo.yaml", 'name: w\nversion: "1"\nlicense: MIT\nmodels:\n  - {name: w, path: models/w.bin, framework: pytorch}\n')
    r = z("push", "-q", "--plain-http", str(s), registry.at(f"{repo}:1")); assert r.returncode == 0, r.stderr
    t = time.monotonic()
    p = subprocess.Popen([Z, "pull", "-q", "--plain-http", slow_registry.at(f"{repo}:1"), "-o", str(tmp_path / "o")], stderr=subprocess.PIPE, text=True)
    assert slow_registry.wait_for(f"/v2/{repo}/blobs/sha256:")
    print("blob GET seen after", time.monotonic() - t)
    time.sleep(0.2)
    p.send_signal(2)
    rc = p.wait(20)
    print("rc", rc, time.monotonic() - t, p.stderr.read())
    print(sorted(os.listdir(tmp_path)))
    t = time.monotonic()
    r = z("pull", "-q", "--plain-http", slow_registry.at(f"{repo}:1"), "-o", str(tmp_path / "o2"), env={"ZOO_OCI_CACHE": str(tmp_path/"c2")})
    dt = time.monotonic() - t
    print("full slow pull", dt, r.returncode)
    assert r.returncode == 0 and 0.4 < dt < 3
