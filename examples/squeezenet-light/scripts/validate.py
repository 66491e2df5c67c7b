#!/usr/bin/env python3
"""Check every model variant of this suite against the shipped reference output.

    python3 scripts/validate.py

For each variant, runs data/test/input_0.npy and compares with data/test/output_0.npy, the output
the ONNX reference evaluator computed (onnx 1.17.0 backend test data), with the tolerances the ONNX
backend test uses for this model: rtol 1e-3, atol 1e-7. The safetensors variant is checked by
loading its tensors into the graph of models/onnx/ in place of the external-data initializers
(this step needs the onnx package; it is reported as skipped without it).

Exit status: 0 when every variant that ran matches, 1 otherwise.

Under `zoo-oci validate` (ZOO_OCI_MODEL set), it runs the one variant ZOO_OCI_MODEL names on the
input in ZOO_OCI_DATA and writes {"max_abs_error": …} to the file ZOO_OCI_METRICS, which zoo-oci
compares with results[] in zoo.yaml (claimed 0.0, tolerance 1e-6).
"""

import json
import os
import struct
import sys

import numpy as np
import onnxruntime as ort

SUITE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RTOL, ATOL = 1e-3, 1e-7


def path(rel):
    return os.path.join(SUITE, rel)


def load_safetensors(file):
    """A safetensors file -> {name: numpy array} (F32 only, which is all this suite ships)."""
    with open(file, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{name}: unexpected dtype {info['dtype']}")
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype="<f4").reshape(info["shape"])
    return out


def run(model, x):
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def safetensors_model():
    """The models/onnx/ graph with its initializers replaced by the safetensors tensors."""
    import onnx
    from onnx import numpy_helper

    weights = load_safetensors(path("models/squeezenet1.1-light.safetensors"))
    model = onnx.load(path("models/onnx/model.onnx"), load_external_data=False)
    names = [t.name for t in model.graph.initializer]
    if sorted(names) != sorted(weights):
        raise SystemExit(f"safetensors tensors {sorted(set(weights) ^ set(names))} do not match the graph")
    del model.graph.initializer[:]
    model.graph.initializer.extend(numpy_helper.from_array(weights[n], n) for n in names)
    return model.SerializeToString()


def contract():
    """zoo-oci validate's contract: measure the variant ZOO_OCI_MODEL names, write the metrics."""
    model, data = os.environ["ZOO_OCI_MODEL"], os.environ["ZOO_OCI_DATA"]
    x = np.load(os.path.join(data, "input_0.npy"))
    expected = np.load(os.path.join(data, "output_0.npy"))
    if model.endswith(".safetensors"):
        y = run(safetensors_model(), x)
    elif os.path.isdir(model):
        y = run(os.path.join(model, "model.onnx"), x)
    else:
        y = run(model, x)
    err = float(np.max(np.abs(y - expected))) if y.shape == expected.shape else float("inf")
    print(f"{os.path.basename(model.rstrip('/'))}: max |output - reference| = {err:.3g}")
    with open(os.environ["ZOO_OCI_METRICS"], "w", encoding="utf-8") as f:
        json.dump({"max_abs_error": err}, f)
    return 0


def main():
    if os.environ.get("ZOO_OCI_MODEL"):
        return contract()
    x = np.load(path("data/test/input_0.npy"))
    expected = np.load(path("data/test/output_0.npy"))
    checks = [
        ("onnx-light", lambda: run(path("models/squeezenet1.1-light.onnx"), x)),
        ("onnx-external-data", lambda: run(path("models/onnx/model.onnx"), x)),
        ("safetensors", lambda: run(safetensors_model(), x)),
    ]
    failed = False
    print(f"onnxruntime {ort.__version__}; reference: data/test/output_0.npy {expected.shape}")
    for name, fn in checks:
        try:
            y = fn()
        except ImportError as e:
            print(f"  {name:<20} skipped ({e.name} is not installed: pip install {e.name})")
            continue
        ok = y.shape == expected.shape and np.allclose(y, expected, rtol=RTOL, atol=ATOL)
        err = float(np.max(np.abs(y - expected))) if y.shape == expected.shape else float("inf")
        print(f"  {name:<20} {'ok  ' if ok else 'FAIL'} max |Δ| = {err:.3g}   top-1 = class {int(np.argmax(y))}")
        failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
