"""`hub.load` on real model suites of other shapes, from the pinned fixtures of
scripts/fetch-fixtures.sh: silero-vad (TorchScript, ONNX and safetensors variants) and
all-minilm-l6-v2 (a Hugging Face sentence-transformers folder). The test environment has
onnxruntime and safetensors, not torch or transformers (hundreds of MB): what those would load is
checked by the error a bare environment gives, naming the extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

import zoo_oci
from conftest import REPO_ROOT
from zoo_oci import hub


@pytest.fixture(scope="module")
def fixtures() -> Path:
    out = subprocess.run([str(REPO_ROOT / "scripts/fetch-fixtures.sh")], capture_output=True, text=True)
    assert out.returncode == 0, f"scripts/fetch-fixtures.sh failed:\n{out.stderr}"
    folder = Path(out.stdout.strip().splitlines()[-1])
    for name in ("silero-vad", "all-minilm-l6-v2"):
        assert (folder / name).is_dir(), f"no {name} in {folder}: run scripts/fetch-fixtures.sh"
    return folder


@pytest.fixture(scope="module")
def zoo(fixtures, tmp_path_factory) -> dict:
    """Both fixtures, described by `zoo_oci.init` and pushed into a layout."""
    root = tmp_path_factory.mktemp("formats")
    refs = {}
    for name in ("silero-vad", "all-minilm-l6-v2"):
        suite = root / name
        shutil.copytree(fixtures / name, suite)
        zoo_oci.init(suite)
        refs[name] = f"oci:{root / 'zoo'}:{name}"
        zoo_oci.push(suite, refs[name], quiet=True)
    return refs


def test_variants_load_in_the_suites_order_with_the_runtime_installed(zoo):
    # silero-vad lists TorchScript first: torch is not installed, so ONNX Runtime takes the next.
    session = hub.load(zoo["silero-vad"], quiet=True)
    assert isinstance(session, onnxruntime.InferenceSession)
    assert [i.name for i in session.get_inputs()] == ["input", "state", "sr"]
    state = np.zeros((2, 1, 128), dtype=np.float32)
    prob, new_state = session.run(
        None, {"input": np.zeros((1, 512), np.float32), "state": state, "sr": np.array(16000)}
    )
    assert prob.shape == (1, 1) and 0.0 <= float(prob[0, 0]) <= 1.0 and new_state.shape == state.shape

    # A Hugging Face folder is a model for transformers to build, not a bag of tensors: with
    # safetensors installed but not transformers, load says what to install rather than hand
    # back a state dict.
    with pytest.raises(hub.RuntimeNotInstalled) as raised:
        hub.load(zoo["all-minilm-l6-v2"], quiet=True)
    assert raised.value.extras == {"safetensors": "transformers"}, raised.value.extras
    # Its files are all there for whoever loads them otherwise.
    folder = zoo_oci.pull(zoo["all-minilm-l6-v2"], only="model", quiet=True)
    for name in ("config.json", "model.safetensors", "modules.json", "1_Pooling/config.json"):
        assert (folder / name).is_file(), name


BARE_LOAD = """
import json, sys
from zoo_oci import hub
try:
    hub.load(sys.argv[1], quiet=True)
except hub.RuntimeNotInstalled as e:
    print(json.dumps({"extras": e.extras, "message": str(e)}))
"""


def test_a_bare_install_names_torch_and_transformers_for_what_they_would_load(zoo, tmp_path):
    wheel = os.environ.get("ZOO_OCI_WHEEL")
    assert wheel and os.path.isfile(wheel), "ZOO_OCI_WHEEL names the wheel under test (scripts/test-python.sh sets it)"
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", str(bare)], check=True)
    subprocess.run([str(bare / "bin/pip"), "install", "-q", "--no-deps", "--no-index", wheel], check=True)
    reports = {}
    for name, ref in zoo.items():
        out = subprocess.run([str(bare / "bin/python"), "-c", BARE_LOAD, ref], capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout, out.stderr
        reports[name] = json.loads(out.stdout)
    silero = reports["silero-vad"]
    assert silero["extras"]["pytorch"] == "torch", silero
    assert set(silero["extras"].values()) == {"torch", "onnx", "safetensors"}, silero
    assert 'pip install "zoo-oci[torch]"' in silero["message"], silero["message"]
    minilm = reports["all-minilm-l6-v2"]
    assert minilm["extras"] == {"safetensors": "transformers"}, minilm
    assert 'pip install "zoo-oci[transformers]"' in minilm["message"], minilm["message"]
