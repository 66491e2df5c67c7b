#!/usr/bin/env python3
"""Derive this suite's generated model files from the upstream logreg_iris.onnx.

Standard library only (no onnx, no numpy), deterministic: the same upstream bytes always give the
same output bytes, so scripts/fetch-examples.sh can pin their sha256.

Reads (put in place by scripts/fetch-examples.sh):
  models/logreg_iris.onnx          onnxruntime/datasets/logreg_iris.onnx from the onnxruntime 1.16.3 wheel

Writes:
  models/logreg_iris_fixed.onnx    the same graph, with the input declared as [N, 4] instead of the
                                   upstream [3, 2] (and the label output as [N]), so it accepts any
                                   number of rows of the four iris features its coefficients expect
  models/logreg_iris.safetensors   the classifier's parameters: coefficients [3, 4], intercepts [3]

Usage: derive.py [SUITE_DIR]   (default: the folder above this script)
"""

import json
import os
import struct
import sys

FLOAT, INT64 = 1, 7  # onnx.TensorProto.DataType


def read_varint(buf, pos):
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def fields(buf):
    """Yield (field number, wire type, value, raw bytes of the whole field) of a protobuf message."""
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value, buf[start:pos]


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, n):
    return varint(number << 3) + varint(n)


def field_bytes(number, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def tensor_value_info(name, elem_type, dims):
    """ValueInfoProto of a tensor; a str dimension is symbolic (dim_param), an int is fixed."""
    shape = b"".join(
        field_bytes(1, field_bytes(2, d) if isinstance(d, str) else field_varint(1, d)) for d in dims
    )
    tensor_type = field_varint(1, elem_type) + field_bytes(2, shape)
    return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor_type))


def floats(value, wire):
    if wire == 2:
        return list(struct.unpack(f"<{len(value) // 4}f", value))
    return [struct.unpack("<f", value)[0]]


def write_atomic(path, data):
    """Write to a hidden temporary file beside path, then rename it into place."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main():
    suite = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    src = os.path.join(suite, "models", "logreg_iris.onnx")
    with open(src, "rb") as f:
        model = f.read()

    # The LinearClassifier node holds the parameters as attributes.
    params = {}
    graph_raw = next(value for number, _, value, _ in fields(model) if number == 7)
    for number, _, value, _ in fields(graph_raw):
        if number != 1:
            continue
        op = next((v.decode() for n, _, v, _ in fields(value) if n == 4), "")
        if op != "LinearClassifier":
            continue
        for n, _, attr, _ in fields(value):
            if n != 5:
                continue
            name, fl, ints = None, [], []
            for n2, w2, v2, _ in fields(attr):
                if n2 == 1:
                    name = v2.decode()
                elif n2 == 7:
                    fl += floats(v2, w2)
                elif n2 == 8:
                    if w2 == 2:
                        pos = 0
                        while pos < len(v2):
                            d, pos = read_varint(v2, pos)
                            ints.append(d)
                    else:
                        ints.append(v2)
            params[name] = fl or ints
    classes = params["classlabels_ints"]
    coefficients, intercepts = params["coefficients"], params["intercepts"]
    n_features = len(coefficients) // len(classes)
    if n_features * len(classes) != len(coefficients):
        raise SystemExit(f"{src}: {len(coefficients)} coefficients do not fit {len(classes)} classes")

    # 1. The fixed graph: replace the declared shapes of float_input and label.
    graph = bytearray()
    for number, _, value, raw in fields(graph_raw):
        name = next((v.decode() for n, _, v, _ in fields(value) if n == 1), "") if number in (11, 12) else ""
        if number == 11 and name == "float_input":
            graph += field_bytes(11, tensor_value_info("float_input", FLOAT, ["N", n_features]))
        elif number == 12 and name == "label":
            graph += field_bytes(12, tensor_value_info("label", INT64, ["N"]))
        else:
            graph += raw
    out = bytearray()
    for number, _, value, raw in fields(model):
        out += field_bytes(7, bytes(graph)) if number == 7 else raw
    for key, value in (
        ("zoo-oci.derived_from", "onnxruntime/datasets/logreg_iris.onnx (onnxruntime 1.16.3 wheel)"),
        ("zoo-oci.derivation", f"float_input declared [N, {n_features}] (was [3, 2]); label declared [N] (was [3])"),
    ):
        out += field_bytes(14, field_bytes(1, key) + field_bytes(2, value))
    write_atomic(os.path.join(suite, "models", "logreg_iris_fixed.onnx"), bytes(out))

    # 2. safetensors: the parameters, sorted by name, packed without gaps.
    tensors = {
        "coefficients": ([len(classes), n_features], struct.pack(f"<{len(coefficients)}f", *coefficients)),
        "intercepts": ([len(classes)], struct.pack(f"<{len(intercepts)}f", *intercepts)),
    }
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        shape, data = tensors[name]
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {
        "classlabels": ",".join(str(c) for c in classes),
        "features": "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm",
        "format": "onnx-ml-linear-classifier",
        "post_transform": "LOGISTIC then L1 normalisation",
        "source": "onnxruntime 1.16.3 wheel: onnxruntime/datasets/logreg_iris.onnx",
    }
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # pad the header so the data starts 8-byte aligned
    write_atomic(os.path.join(suite, "models", "logreg_iris.safetensors"),
                 struct.pack("<Q", len(text)) + text + b"".join(blobs))
    print(f"derived logreg_iris_fixed.onnx and logreg_iris.safetensors ({len(coefficients) + len(intercepts)} parameters)")


if __name__ == "__main__":
    main()
