#!/usr/bin/env python3
"""Derive this suite's generated files from the upstream light SqueezeNet 1.1 graph.

Standard library only (no onnx, no numpy), deterministic: the same upstream bytes always give the
same output bytes, so scripts/fetch-examples.sh can pin their sha256.

Reads (put in place by scripts/fetch-examples.sh):
  models/squeezenet1.1-light.onnx   light_squeezenet.onnx from the onnx 1.17.0 wheel
  data/test/output_0.pb             light_squeezenet_output_0.pb from the same wheel

Writes:
  models/onnx/model.onnx            the same graph with every ConstantOfShape weight turned into
  models/onnx/model.onnx.data       an initializer stored as ONNX external data
  models/squeezenet1.1-light.safetensors   all 52 weight tensors (1,235,496 float32 values)
  data/test/input_0.npy             the ONNX backend test's input: arange(n) / n, shape 1x3x224x224
  data/test/output_0.npy            output_0.pb as a .npy array

Usage: derive.py [SUITE_DIR]   (default: the folder above this script)
"""

import json
import os
import struct
import sys

FLOAT, INT64 = 1, 7  # onnx.TensorProto.DataType
DATA_FILE = "model.onnx.data"


# --- a minimal protobuf reader and writer (wire format only) --------------------------------

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
    """Yield (field number, wire type, value, raw bytes of the whole field)."""
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
    if n < 0:
        n += 1 << 64
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


def signed(n):
    return n - (1 << 64) if n >= 1 << 63 else n


# --- ONNX messages --------------------------------------------------------------------------

def parse_tensor(buf):
    """TensorProto -> dict(name, dims, dtype, data: bytes little-endian)."""
    t = {"name": "", "dims": [], "dtype": 0, "raw": None, "floats": [], "ints": []}
    for number, wire, value, _ in fields(buf):
        if number == 1:  # dims
            if wire == 2:
                pos = 0
                while pos < len(value):
                    d, pos = read_varint(value, pos)
                    t["dims"].append(signed(d))
            else:
                t["dims"].append(signed(value))
        elif number == 2:
            t["dtype"] = value
        elif number == 4:  # float_data
            if wire == 2:
                t["floats"].extend(struct.unpack(f"<{len(value) // 4}f", value))
            else:
                t["floats"].append(struct.unpack("<f", value)[0])
        elif number == 7:  # int64_data
            if wire == 2:
                pos = 0
                while pos < len(value):
                    d, pos = read_varint(value, pos)
                    t["ints"].append(signed(d))
            else:
                t["ints"].append(signed(value))
        elif number == 8:
            t["name"] = value.decode()
        elif number == 9:
            t["raw"] = bytes(value)
        elif number in (13, 14):
            raise ValueError(f"tensor {t['name']!r} already uses external data")
    count = 1
    for d in t["dims"]:
        count *= d
    if t["raw"] is not None:
        t["data"] = t["raw"]
    elif t["dtype"] == FLOAT:
        t["data"] = struct.pack(f"<{len(t['floats'])}f", *t["floats"])
    elif t["dtype"] == INT64:
        t["data"] = struct.pack(f"<{len(t['ints'])}q", *t["ints"])
    else:
        raise ValueError(f"tensor {t['name']!r}: unsupported data type {t['dtype']}")
    t["count"] = count
    return t


def parse_node(buf):
    node = {"inputs": [], "outputs": [], "op": "", "domain": "", "value": None}
    for number, _, value, _ in fields(buf):
        if number == 1:
            node["inputs"].append(value.decode())
        elif number == 2:
            node["outputs"].append(value.decode())
        elif number == 4:
            node["op"] = value.decode()
        elif number == 7:
            node["domain"] = value.decode()
        elif number == 5:  # AttributeProto
            name, tensor = None, None
            for n2, _, v2, _ in fields(value):
                if n2 == 1:
                    name = v2.decode()
                elif n2 == 5:
                    tensor = parse_tensor(v2)
            if name == "value":
                node["value"] = tensor
    return node


def external_tensor(name, dims, offset, length):
    """TensorProto of float32 data stored in DATA_FILE, fields in field-number order."""
    out = b"".join(field_varint(1, d) for d in dims)
    out += field_varint(2, FLOAT)
    out += field_bytes(8, name)
    for key, value in (("location", DATA_FILE), ("offset", str(offset)), ("length", str(length))):
        out += field_bytes(13, field_bytes(1, key) + field_bytes(2, value))
    out += field_varint(14, 1)  # data_location = EXTERNAL
    return out


def value_info(name, dims):
    """ValueInfoProto of a float32 tensor with a fixed shape."""
    shape = b"".join(field_bytes(1, field_varint(1, d)) for d in dims)
    tensor_type = field_varint(1, FLOAT) + field_bytes(2, shape)
    return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor_type))


# --- files ----------------------------------------------------------------------------------

def write_atomic(path, chunks):
    """Write to a hidden temporary file beside path, then rename it into place."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
    try:
        with open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def npy(dtype, shape, data):
    """A .npy file, format version 1.0, header padded to 64 bytes like numpy writes it."""
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({dims}), }}"
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    return [b"\x93NUMPY\x01\x00", struct.pack("<H", len(header)), header.encode("latin1"), data]


def main():
    suite = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    light = os.path.join(suite, "models", "squeezenet1.1-light.onnx")
    with open(light, "rb") as f:
        model = f.read()

    graph_raw = None
    for number, _, value, _ in fields(model):
        if number == 7:
            graph_raw = value
    if graph_raw is None:
        raise SystemExit(f"{light}: no graph")

    nodes, inits = [], {}
    for number, _, value, _ in fields(graph_raw):
        if number == 1:
            nodes.append(parse_node(value))
        elif number == 5:
            t = parse_tensor(value)
            inits[t["name"]] = t

    # Every weight the light graph computes with ConstantOfShape(shape) -> fill value.
    weights = {}  # name -> (dims, little-endian float32 bytes)
    shape_inputs = set()
    for node in nodes:
        if node["op"] != "ConstantOfShape":
            continue
        shape = inits[node["inputs"][0]]
        dims = list(struct.unpack(f"<{shape['count']}q", shape["data"]))
        fill = node["value"]
        if fill is None or fill["dtype"] != FLOAT:
            raise SystemExit(f"ConstantOfShape {node['outputs'][0]}: expected a float fill value")
        count = 1
        for d in dims:
            count *= d
        weights[node["outputs"][0]] = (dims, fill["data"][:4] * count)
        shape_inputs.add(node["inputs"][0])
    kept = {n: t for n, t in inits.items() if t["dtype"] == FLOAT}  # small weights kept by upstream

    # 1. models/onnx/: the graph with initializers in external data (IR version and opset unchanged).
    order = [n["outputs"][0] for n in nodes if n["op"] == "ConstantOfShape"]
    data_chunks, new_inits, new_inputs, offset = [], [], [], 0
    for name in order:
        dims, data = weights[name]
        data_chunks.append(data)
        new_inits.append(field_bytes(5, external_tensor(name, dims, offset, len(data))))
        new_inputs.append(field_bytes(11, value_info(name, dims)))  # IR 3: initializers are inputs
        offset += len(data)
    graph = bytearray()
    for number, _, value, raw in fields(graph_raw):
        if number == 1 and parse_node(value)["op"] == "ConstantOfShape":
            continue
        if number == 5 and parse_tensor(value)["name"] in shape_inputs:
            continue
        if number == 11:
            name = next((v.decode() for n2, _, v, _ in fields(value) if n2 == 1), "")
            if name in shape_inputs:
                continue
        graph += raw
    graph += b"".join(new_inits) + b"".join(new_inputs)
    out = bytearray()
    for number, _, value, raw in fields(model):
        out += field_bytes(7, bytes(graph)) if number == 7 else raw
    for key, value in (
        ("zoo-oci.derived_from", "onnx/backend/test/data/light/light_squeezenet.onnx (onnx 1.17.0 wheel)"),
        ("zoo-oci.derivation", "ConstantOfShape weights materialised as external-data initializers"),
    ):
        out += field_bytes(14, field_bytes(1, key) + field_bytes(2, value))
    write_atomic(os.path.join(suite, "models", "onnx", DATA_FILE), data_chunks)
    write_atomic(os.path.join(suite, "models", "onnx", "model.onnx"), [bytes(out)])

    # 2. safetensors: every weight, sorted by name, packed without gaps.
    tensors = {name: (dims, data) for name, (dims, data) in weights.items()}
    for name, t in kept.items():
        tensors[name] = (t["dims"], t["data"])
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        dims, data = tensors[name]
        header[name] = {"dtype": "F32", "shape": dims, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {
        "format": "onnx-initializers",
        "source": "onnx 1.17.0 wheel: onnx/backend/test/data/light/light_squeezenet.onnx",
    }
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # pad the header so the data starts 8-byte aligned
    write_atomic(os.path.join(suite, "models", "squeezenet1.1-light.safetensors"),
                 [struct.pack("<Q", len(text)), text] + blobs)

    # 3. data/test/: the input the ONNX backend test feeds light models (random=False), as .npy.
    shape = (1, 3, 224, 224)
    n = 1 * 3 * 224 * 224
    values = struct.pack(f"<{n}f", *(i / n for i in range(n)))
    write_atomic(os.path.join(suite, "data", "test", "input_0.npy"), npy("<f4", shape, values))
    with open(os.path.join(suite, "data", "test", "output_0.pb"), "rb") as f:
        expected = parse_tensor(f.read())
    write_atomic(os.path.join(suite, "data", "test", "output_0.npy"),
                 npy("<f4", tuple(expected["dims"]), expected["data"]))

    total = sum(len(d) // 4 for _, d in tensors.values())
    print(f"derived {len(tensors)} weight tensors ({total:,} parameters) into {suite}")


if __name__ == "__main__":
    main()
