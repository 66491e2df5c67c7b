#!/usr/bin/env python3
"""Helpers of scripts/bench.sh's catalogue part (e): a registry of thousands of suites, and the
plain client an index is measured against. Standard library only.

  bench_catalog.py populate ADDR TEMPLATE N [THREADS]
      Makes N suites zoo/suite-0000 … in the plain-HTTP registry ADDR from the suite TEMPLATE
      (REPO:TAG there, pushed by zoo-oci): each repository mounts the template's blobs and gets
      the template's manifest under its own name (the suite annotation's `name`), tag 1.0.
  bench_catalog.py plain ADDR CONCURRENCY
      What any client does to read every manifest of a registry, as directly as it can: the
      catalogue page by page (Link), then every repository's tag list and every tag's manifest,
      CONCURRENCY requests in flight, on kept-alive connections. Prints the manifests read and
      their bytes; fails on any answer but 200.
"""

import http.client
import json
import queue
import sys
import threading

ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def connection(addr):
    host, port = addr.rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=60)


def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


def parallel(items, threads, work, addr):
    """Runs work(conn, item) for every item on `threads` threads, each with its own connection;
    gives the results in no particular order, or raises the first failure."""
    todo = queue.Queue()
    for item in items:
        todo.put(item)
    results, failures = [], []
    lock = threading.Lock()

    def worker():
        conn = connection(addr)
        while not failures:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                result = work(conn, item)
            except Exception as e:  # reported once, after the threads end
                with lock:
                    failures.append(f"{item}: {e}")
                return
            with lock:
                results.append(result)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if failures:
        raise SystemExit(f"bench_catalog: {failures[0]}")
    return results


def populate(addr, template, n, threads):
    repo, tag = template.rsplit(":", 1)
    conn = connection(addr)
    response, body = request(conn, "GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": ACCEPT})
    if response.status != 200:
        raise SystemExit(f"bench_catalog: {template}: {response.status} {body[:200]!r}")
    manifest = json.loads(body)
    blobs = [manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]

    def make(conn, i):
        name = f"suite-{i:04d}"
        target = f"zoo/{name}"
        for digest in blobs:
            r, b = request(conn, "POST", f"/v2/{target}/blobs/uploads/?mount={digest}&from={repo}")
            if r.status != 201:
                raise RuntimeError(f"mounting {digest} into {target}: {r.status} {b[:200]!r}")
        m = json.loads(body)
        annotations = m.setdefault("annotations", {})
        suite = json.loads(annotations["io.zoo-oci.suite"])
        suite["descriptor"]["name"] = name
        annotations["io.zoo-oci.suite"] = json.dumps(suite, separators=(",", ":"))
        annotations["org.opencontainers.image.title"] = name
        data = json.dumps(m, separators=(",", ":")).encode()
        r, b = request(conn, "PUT", f"/v2/{target}/manifests/1.0", body=data,
                       headers={"Content-Type": m["mediaType"]})
        if r.status != 201:
            raise RuntimeError(f"putting the manifest of {target}: {r.status} {b[:200]!r}")
        return i

    made = parallel(range(n), threads, make, addr)
    print(f"{len(made)} suites in {addr}")


def plain(addr, concurrency):
    conn = connection(addr)
    repositories, path = [], "/v2/_catalog?n=1000"
    while path:
        response, body = request(conn, "GET", path)
        if response.status != 200:
            raise SystemExit(f"bench_catalog: {path}: {response.status}")
        repositories += json.loads(body).get("repositories") or []
        link = response.getheader("Link")
        path = link[link.index("<") + 1:link.index(">")] if link else None

    def tags(conn, repo):
        r, b = request(conn, "GET", f"/v2/{repo}/tags/list")
        if r.status != 200:
            raise RuntimeError(f"tags of {repo}: {r.status}")
        return [(repo, t) for t in json.loads(b).get("tags") or []]

    pairs = [p for listed in parallel(repositories, concurrency, tags, addr) for p in listed]

    def manifest(conn, pair):
        repo, tag = pair
        r, b = request(conn, "GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": ACCEPT})
        if r.status != 200:
            raise RuntimeError(f"manifest {repo}:{tag}: {r.status}")
        return len(b)

    sizes = parallel(pairs, concurrency, manifest, addr)
    print(f"{len(sizes)} manifests of {len(repositories)} repositories, {sum(sizes)} bytes")


def main(argv):
    if len(argv) >= 4 and argv[1] == "populate":
        populate(argv[2], argv[3], int(argv[4]), int(argv[5]) if len(argv) > 5 else 8)
    elif len(argv) == 4 and argv[1] == "plain":
        plain(argv[2], int(argv[3]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
