"""zoo_oci.validate (issue 24): the iris example's own validate script, run by the sandbox in
this environment (onnxruntime from the [onnx] extra), reproduces its claim; an inflated claim
is refused; a stored suite is validated from what is pulled of it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import zoo_oci


@pytest.fixture(scope="module", autouse=True)
def _bubblewrap() -> None:
    if shutil.which("bwrap") is None:
        pytest.fail("setup error: bubblewrap (bwrap) is not installed; run scripts/setup.sh", pytrace=False)


def test_the_iris_examples_claim_is_reproduced_in_the_sandbox(iris_example: Path) -> None:
    result = zoo_oci.validate(iris_example, python=sys.executable)
    assert result.ok and result.exit_code == 0, result.reason or result.output
    assert [(m.type, m.claimed, m.measured, m.passed) for m in result.metrics] == [("accuracy", 90.0, 90.0, True)]
    assert (result.variant, result.dataset) == ("onnx", "iris-sample")
    assert result.raw["sandboxed"] is True
    assert "onnxruntime" in result.raw["harness"]["runtimes"]
    safetensors = zoo_oci.validate(iris_example, variant="safetensors", python=sys.executable)
    assert safetensors.ok, safetensors.reason


def test_an_inflated_claim_is_not_reproduced(iris_example: Path, tmp_path: Path) -> None:
    suite = tmp_path / "iris"
    shutil.copytree(iris_example, suite)
    yaml = (suite / "zoo.yaml").read_text()
    (suite / "zoo.yaml").write_text(yaml.replace("value: 90.0\n", "value: 96.7\n", 1))
    result = zoo_oci.validate(suite, python=sys.executable)
    assert (result.verdict, result.exit_code, result.ok) == ("not_reproduced", 1, False)
    assert result.reason and "claimed 96.7, measured 90" in result.reason
    with pytest.raises(zoo_oci.NotFoundError, match="no variant"):
        zoo_oci.validate(suite, variant="nope", python=sys.executable)


def test_a_stored_suite_is_validated_from_its_reference_or_suite(iris_example: Path, tmp_path: Path, zoo_cache) -> None:
    ref = f"oci:{tmp_path / 'zoo'}:1.0"
    zoo_oci.push(iris_example, ref, quiet=True)
    assert zoo_oci.validate(ref, python=sys.executable).ok
    assert zoo_oci.validate(zoo_oci.inspect(ref), python=sys.executable, time_limit=120).ok


def test_the_squeezenet_examples_claim_is_reproduced_for_its_onnx_variants() -> None:
    suite = Path(__file__).resolve().parents[2] / "examples" / "squeezenet-light"
    if not (suite / "models" / "squeezenet1.1-light.onnx").is_file():
        pytest.fail(f"setup error: {suite}/models is missing its files; run scripts/fetch-examples.sh", pytrace=False)
    for variant in ("onnx-light", "onnx-external-data"):
        result = zoo_oci.validate(suite, variant=variant, python=sys.executable)
        assert result.ok, (variant, result.reason, result.output)
        assert [(m.type, m.claimed, m.tolerance) for m in result.metrics] == [("max_abs_error", 0.0, 1e-06)]
