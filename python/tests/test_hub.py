"""`zoo_oci.hub` on the real example suite, examples/iris-logreg, pushed to the live registry:
`load` gives an onnxruntime session that reproduces the suite's declared accuracy on the test set
the suite ships; a runtime that is not installed is named with its extra; `help` is the README;
`list` filters by task; a cached `load` downloads nothing. Timings go to $ZOO_OCI_BENCH_OUT."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest

import zoo_oci
import zoo_oci.hub as hub
from conftest import bench, field, names, run_python, small_suite

FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


@pytest.fixture(scope="module")
def zoo(registry, iris_example, tmp_path_factory):
    """A namespace holding iris-logreg 1.0 and the small image-classification suite."""
    ns = f"hub-{uuid.uuid4().hex[:8]}"
    iris = registry.at(f"{ns}/iris-logreg:1.0")
    digest = zoo_oci.push(iris_example, iris, plain_http=True, quiet=True)
    tiny = small_suite(tmp_path_factory.mktemp("hub-tiny"))
    zoo_oci.push(tiny, registry.at(f"{ns}/tiny:1.0.0"), plain_http=True, quiet=True)
    return {"ns": ns, "ref": iris, "repo": f"{ns}/iris-logreg", "digest": digest, "example": iris_example}


def test_zoo_oci_bracket_extras_are_installed():
    """The test venv installs zoo-oci[onnx,progress] (scripts/test-python.sh)."""
    assert importlib.util.find_spec("onnxruntime") is not None, "install the wheel with its [onnx] extra"


def declared_test_accuracy(suite) -> float:
    values = [
        field(m, "value")
        for r in suite.results
        if field(field(r, "dataset"), "split") == "test"
        for m in field(r, "metrics")
        if field(m, "type") == "accuracy"
    ]
    assert len(values) == 1, suite.results
    return float(values[0])


def read_test_set(snapshot):
    with open(snapshot / "data/test/iris_test.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[float(r[c]) for c in FEATURES] for r in rows], dtype=np.float32)
    y = np.array([int(r["label"]) for r in rows], dtype=np.int64)
    return x, y


def predict(session, x):
    import onnxruntime

    assert isinstance(session, onnxruntime.InferenceSession), type(session)
    (label,) = session.run(["label"], {session.get_inputs()[0].name: x})
    return np.asarray(label)


def test_load_gives_an_onnxruntime_session_that_reproduces_the_declared_accuracy(zoo, zoo_cache):
    session = hub.load(zoo["ref"], plain_http=True)
    assert [i.name for i in session.get_inputs()] == ["float_input"]
    assert "label" in [o.name for o in session.get_outputs()]

    # The test set the suite ships, from a full pull into the cache (not from the repository).
    snapshot = zoo_oci.pull(zoo["ref"], plain_http=True, quiet=True)
    assert snapshot.resolve().is_relative_to(zoo_cache.resolve()), snapshot
    x, y = read_test_set(snapshot)
    assert x.shape == (30, 4)

    labels = predict(session, x)
    assert labels.shape == (30,)
    correct = int(np.sum(labels == y))
    accuracy = 100.0 * correct / len(y)
    declared = declared_test_accuracy(zoo_oci.inspect(zoo["ref"], plain_http=True))
    assert declared == 90.0
    assert accuracy == pytest.approx(declared, abs=1e-9), f"{correct} of {len(y)} right"
    assert correct == 27


def test_the_safetensors_variant_loads_as_a_dict_of_arrays(zoo):
    assert importlib.util.find_spec("safetensors") is not None, "install the wheel with its [safetensors] extra"
    tensors = hub.load(zoo["ref"], variant="safetensors", plain_http=True)
    assert isinstance(tensors, dict)
    assert set(tensors) == {"coefficients", "intercepts"}, set(tensors)
    assert tuple(tensors["coefficients"].shape) == (3, 4)
    assert tuple(tensors["intercepts"].shape) == (3,)
    # The same parameters the ONNX variant computes with: its labels from them, with numpy.
    x, y = read_test_set(zoo_oci.pull(zoo["ref"], plain_http=True, quiet=True))
    scores = x @ np.asarray(tensors["coefficients"]).T + np.asarray(tensors["intercepts"])
    onnx_labels = predict(hub.load(zoo["ref"], variant="onnx", plain_http=True), x)
    assert np.argmax(scores, axis=1).tolist() == onnx_labels.tolist()


BARE_LOAD = """
import json, sys, zoo_oci
from zoo_oci import hub
try:
    hub.load(sys.argv[1], plain_http=True)
except hub.RuntimeNotInstalled as e:
    print(json.dumps({"extras": e.extras, "message": str(e), "zoo": isinstance(e, zoo_oci.ZooError),
                      "import": isinstance(e, ImportError)}))
"""


def test_a_bare_install_names_the_extra_each_variant_needs(zoo, tmp_path):
    """A real environment with the wheel alone (no onnxruntime, no safetensors): hub.load names
    what to install."""
    wheel = os.environ.get("ZOO_OCI_WHEEL")
    assert wheel and os.path.isfile(wheel), "ZOO_OCI_WHEEL names the wheel under test (scripts/test-python.sh sets it)"
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", str(bare)], check=True)
    subprocess.run([str(bare / "bin/pip"), "install", "-q", "--no-deps", "--no-index", wheel], check=True)
    out = subprocess.run([str(bare / "bin/python"), "-c", BARE_LOAD, zoo["ref"]], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["zoo"] and report["import"], report
    assert report["extras"] == {"onnx": "onnx", "onnx-original": "onnx", "safetensors": "safetensors"}, report
    assert 'pip install "zoo-oci[onnx]"' in report["message"], report["message"]
    assert 'pip install "zoo-oci[safetensors]"' in report["message"], report["message"]
    assert issubclass(hub.RuntimeNotInstalled, zoo_oci.ZooError) and issubclass(hub.RuntimeNotInstalled, ImportError)


def test_help_is_the_readme(zoo):
    text = hub.help(zoo["ref"], plain_http=True)
    assert isinstance(text, str)
    readme = (zoo["example"] / "README.md").read_text()
    assert text.startswith(readme.splitlines()[0]), text[:200]
    assert text.strip() == readme.strip()


def test_list_filters_by_task(zoo, registry):
    location = registry.at(zoo["ns"])
    assert sorted(names(hub.list(location, plain_http=True))) == ["iris-logreg", "tiny"]
    tabular = hub.list(location, task="tabular-classification", plain_http=True)
    assert names(tabular) == ["iris-logreg"]
    assert names(hub.list(location, task="image-classification", plain_http=True)) == ["tiny"]


def test_a_cached_load_downloads_nothing_and_is_timed(zoo, registry):
    first = hub.load(zoo["ref"], plain_http=True)
    mark = registry.mark()
    started = time.perf_counter()
    again = hub.load(zoo["ref"], plain_http=True)
    cached = time.perf_counter() - started
    assert registry.downloaded(mark, zoo["repo"]) == {}, "a cached load requests no blob"
    x = np.array([[5.0, 3.6, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]], dtype=np.float32)
    assert predict(again, x).tolist() == predict(first, x).tolist() == [0, 2]

    # `import zoo_oci` in a fresh interpreter, best of three; it must not import onnxruntime.
    code = (
        "import sys, time, json\n"
        "t = time.perf_counter()\n"
        "import zoo_oci\n"
        "dt = time.perf_counter() - t\n"
        "print(json.dumps({'seconds': dt, 'onnxruntime': 'onnxruntime' in sys.modules}))\n"
    )
    runs = []
    for _ in range(3):
        out = run_python(code)
        assert out.returncode == 0, out.stderr
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not any(r["onnxruntime"] for r in runs), "import zoo_oci must leave onnxruntime to hub.load"
    imported = min(r["seconds"] for r in runs)
    print(f"import zoo_oci: {imported * 1000:.1f} ms; cached hub.load: {cached * 1000:.1f} ms")
    bench("import zoo_oci", imported, "s", runs=[r["seconds"] for r in runs])
    bench("hub.load cached (iris-logreg onnx)", cached, "s")


# --------------------------------------------------------------------------------------------
# load pulls the manifest it chose the variant from (issue 22, point 9)
# --------------------------------------------------------------------------------------------


def test_load_reads_the_tag_once_and_pulls_by_the_digest_it_read(registry, tmp_path, repo):
    """The registry's log: one manifest GET by the tag (the inspect that chooses the variant),
    then the pull asks for that manifest by its digest, and never for the tag again."""
    ref = registry.at(f"{repo}:1.0.0")
    digest = zoo_oci.push(small_suite(tmp_path), ref, plain_http=True, quiet=True)
    mark = registry.mark()
    weights = hub.load(ref, framework="safetensors", plain_http=True, quiet=True)
    assert list(weights) == ["w"]
    manifests = [r for r in registry.requests(mark) if "/manifests/" in r.uri]
    by_tag = [i for i, r in enumerate(manifests) if r.uri.endswith(f"/{repo}/manifests/1.0.0")]
    by_digest = [i for i, r in enumerate(manifests) if r.uri.endswith(f"/{repo}/manifests/{digest}")]
    assert [manifests[i].method for i in by_tag].count("GET") == 1, manifests
    assert [manifests[i].method for i in by_digest].count("GET") >= 1, f"no pull by digest: {manifests}"
    assert max(by_tag) < min(by_digest), f"the tag was asked for again after the variant was chosen: {manifests}"


def test_a_tag_moved_between_choosing_and_pulling_loads_the_suite_read_first(registry, tmp_path, repo, monkeypatch):
    """The tag is moved to another suite just before the pull (hub's pull step wrapped): what
    loads is the first suite's weights, from the manifest the variant was chosen from."""
    from safetensors.numpy import load_file

    first, second = small_suite(tmp_path, "first", weights_seed=3), small_suite(tmp_path, "second", weights_seed=4)
    ref, other = registry.at(f"{repo}:1.0.0"), registry.at(f"{repo}:other")
    zoo_oci.push(first, ref, plain_http=True, quiet=True)
    moved_to = zoo_oci.push(second, other, plain_http=True, quiet=True)

    real_api = hub._api

    class TagMovesBeforePull:
        def __init__(self, client):
            self.client = real_api(client)

        def inspect(self, *args, **kwargs):
            return self.client.inspect(*args, **kwargs)

        def pull(self, *args, **kwargs):
            zoo_oci.tag(other, "1.0.0", plain_http=True)
            return self.client.pull(*args, **kwargs)

    monkeypatch.setattr(hub, "_api", TagMovesBeforePull)
    weights = hub.load(ref, framework="safetensors", plain_http=True, quiet=True)
    assert zoo_oci.inspect(ref, plain_http=True).digest == moved_to, "the tag did move"
    expected = load_file(str(first / "models/model.safetensors"))
    unexpected = load_file(str(second / "models/model.safetensors"))
    # Bytes, not values: random bytes read as float32 hold NaNs, which equal nothing.
    assert expected["w"].tobytes() != unexpected["w"].tobytes(), "the two suites' weights differ"
    assert np.asarray(weights["w"]).tobytes() == expected["w"].tobytes(), "loaded the suite the tag moved to"


def test_what_load_pulled_by_digest_loads_again_offline_by_its_tag(registry, tmp_path, repo, monkeypatch):
    """Pulling by the digest keeps the tag in the cache as resolved to it, as a pull by the tag
    does: offline, the same hub.load by tag answers from the cache, with no request."""
    ref = registry.at(f"{repo}:1.0.0")
    zoo_oci.push(small_suite(tmp_path), ref, plain_http=True, quiet=True)
    online = hub.load(ref, framework="safetensors", plain_http=True, quiet=True)
    monkeypatch.setenv("ZOO_OCI_OFFLINE", "1")
    mark = registry.mark()
    offline = hub.load(ref, framework="safetensors", plain_http=True, quiet=True)
    assert np.asarray(offline["w"]).tobytes() == np.asarray(online["w"]).tobytes()
    assert registry.requests(mark) == [], "offline, no request"
