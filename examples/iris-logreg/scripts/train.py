#!/usr/bin/env python3
"""Train a comparable classifier and export it to ONNX.

    pip install scikit-learn skl2onnx onnx
    python3 scripts/train.py [--output logreg_iris_retrained.onnx]

How the upstream logreg_iris.onnx was trained is not published with it (it was converted by
OnnxMLTools 1.2); its coefficients are those of a one-vs-rest logistic regression on the four iris
features. This script trains such a model (scikit-learn LogisticRegression, liblinear solver,
one-vs-rest) on the 120 rows of the Iris data set that are not in data/test/iris_test.csv, exports
it with skl2onnx (batch dimension left dynamic) and reports its accuracy on the shipped test rows.
The result is close to, not identical with, the shipped model.

The output is written outside the suite by default, so the suite keeps only declared files.
"""

import argparse
import csv
import os

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

SUITE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", default="logreg_iris_retrained.onnx")
    args = ap.parse_args()

    with open(os.path.join(SUITE, "data", "test", "iris_test.csv"), newline="", encoding="utf-8") as f:
        test_rows = list(csv.DictReader(f))
    test_ids = {int(r["sample"]) for r in test_rows}            # 1-based row numbers in the data set
    iris = load_iris()                                           # Fisher's 150 rows, shipped with scikit-learn
    train = np.array([i + 1 not in test_ids for i in range(len(iris.target))])
    x_train, y_train = iris.data[train].astype(np.float32), iris.target[train]
    x_test = np.array([[float(r[c]) for c in FEATURES] for r in test_rows], dtype=np.float32)
    y_test = np.array([int(r["label"]) for r in test_rows])

    clf = LogisticRegression(solver="liblinear")                 # one-vs-rest, like the upstream model
    clf.fit(x_train, y_train)
    print(f"trained on {len(y_train)} rows; test accuracy {100 * clf.score(x_test, y_test):.1f} %")
    print("coefficients:\n", np.array2string(clf.coef_, precision=4), "\nintercepts:", clf.intercept_)

    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    # Same input name and outputs (label, probabilities as a list of maps) as the shipped model.
    onx = to_onnx(clf, initial_types=[("float_input", FloatTensorType([None, len(FEATURES)]))],
                  target_opset={"": 15, "ai.onnx.ml": 1}, options={id(clf): {"zipmap": True}})
    with open(args.output, "wb") as f:
        f.write(onx.SerializeToString())
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
