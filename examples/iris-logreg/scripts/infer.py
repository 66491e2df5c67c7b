#!/usr/bin/env python3
"""Predict the species of iris flowers from four measurements in centimetres.

    python3 scripts/infer.py 5.1 3.5 1.4 0.2            # one flower
    python3 scripts/infer.py --csv data/test/iris_test.csv
    python3 scripts/infer.py --variant safetensors 6.3 3.3 6.0 2.5   # numpy only, no onnxruntime

Features, in this order: sepal length, sepal width, petal length, petal width (cm).
A CSV needs the header names sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm;
other columns are ignored.
"""

import argparse
import csv
import json
import os
import struct

import numpy as np

SUITE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
SPECIES = ["setosa", "versicolor", "virginica"]


def predict_onnx(x, model=os.path.join(SUITE, "models", "logreg_iris_fixed.onnx")):
    """-> (labels [N], probabilities [N, 3]) from the fixed ONNX graph with onnxruntime."""
    import onnxruntime as ort

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    labels, maps = session.run(None, {"float_input": x})
    return labels, np.array([[m[c] for c in range(len(SPECIES))] for m in maps], dtype=np.float32)


def predict_safetensors(x, file=os.path.join(SUITE, "models", "logreg_iris.safetensors")):
    """-> (labels, probabilities) computed with numpy from the safetensors parameters.

    The same arithmetic as the ONNX-ML LinearClassifier (post_transform LOGISTIC) followed by the
    Normalizer (L1) of the ONNX graph: p = sigmoid(x W^T + b), then p / sum(p).
    """
    with open(file, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    t = {}
    for name in ("coefficients", "intercepts"):
        start, end = header[name]["data_offsets"]
        t[name] = np.frombuffer(data[start:end], dtype="<f4").reshape(header[name]["shape"])
    z = x @ t["coefficients"].T + t["intercepts"]
    p = 1.0 / (1.0 + np.exp(-z))
    p /= p.sum(axis=1, keepdims=True)
    return p.argmax(axis=1), p.astype(np.float32)


def read_csv(file):
    with open(file, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(r[c]) for c in FEATURES] for r in rows], dtype=np.float32), rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("features", nargs="*", type=float, help="four measurements in cm")
    ap.add_argument("--csv", help="CSV file with one flower per row")
    ap.add_argument("--variant", choices=["onnx", "safetensors"], default="onnx")
    args = ap.parse_args()
    if args.csv:
        x, _ = read_csv(args.csv)
    elif len(args.features) == 4:
        x = np.array([args.features], dtype=np.float32)
    else:
        ap.error("give four measurements or --csv FILE")

    labels, probs = (predict_onnx if args.variant == "onnx" else predict_safetensors)(x)
    print(f"{'sepal_l':>7} {'sepal_w':>7} {'petal_l':>7} {'petal_w':>7}  {'species':<11} "
          + " ".join(f"{s:>10}" for s in SPECIES))
    for row, label, p in zip(x, labels, probs):
        print(" ".join(f"{v:7.1f}" for v in row) + f"  {SPECIES[int(label)]:<11} "
              + " ".join(f"{v:10.4f}" for v in p))


if __name__ == "__main__":
    main()
