#!/usr/bin/env python3
"""Classify an image (or a prepared tensor) with the light SqueezeNet 1.1 graph.

    python3 scripts/infer.py photo.jpg                 # needs Pillow
    python3 scripts/infer.py --npy data/test/input_0.npy
    python3 scripts/infer.py --variant onnx-external-data --top 3 photo.jpg

The weights of this suite are placeholders (see README.md): every class gets the same score, so
the ranking printed here is arbitrary. The script is the real pipeline nonetheless: point
--model at a SqueezeNet 1.1 graph with trained weights and the same input name to get real labels.
"""

import argparse
import os
import sys

import numpy as np
import onnxruntime as ort

SUITE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
VARIANTS = {
    "onnx-light": "models/squeezenet1.1-light.onnx",
    "onnx-external-data": "models/onnx/model.onnx",
}
# The Caffe model SqueezeNet 1.1 was trained as: BGR pixels in 0..255 minus the per-channel mean
# (SqueezeNet_v1.1/train_val.prototxt). The ONNX graph takes 224 x 224.
BGR_MEAN = np.array([104.0, 117.0, 123.0], dtype=np.float32)
SIZE = 224


def preprocess(path):
    """Image file -> float32 [1, 3, 224, 224] (NCHW, BGR, mean-subtracted)."""
    try:
        from PIL import Image
    except ImportError:
        sys.exit("reading an image needs Pillow: pip install Pillow (or pass --npy)")
    img = Image.open(path).convert("RGB")
    scale = 256 / min(img.size)
    img = img.resize((max(SIZE, round(img.width * scale)), max(SIZE, round(img.height * scale))), Image.BILINEAR)
    left, top = (img.width - SIZE) // 2, (img.height - SIZE) // 2
    img = img.crop((left, top, left + SIZE, top + SIZE))
    rgb = np.asarray(img, dtype=np.float32)          # H, W, RGB
    bgr = rgb[:, :, ::-1] - BGR_MEAN                  # H, W, BGR
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)[np.newaxis])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image", nargs="?", help="image file (JPEG, PNG...)")
    ap.add_argument("--npy", help="a prepared float32 tensor of shape [1, 3, 224, 224] instead of an image")
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="onnx-light")
    ap.add_argument("--model", help="another ONNX file with the same input (overrides --variant)")
    ap.add_argument("--labels", help="text file with one class name per line (1000 lines)")
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args()
    if (args.image is None) == (args.npy is None):
        ap.error("give an image or --npy, not both")

    x = np.load(args.npy).astype(np.float32) if args.npy else preprocess(args.image)
    model = args.model or os.path.join(SUITE, VARIANTS[args.variant])
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    probs = session.run(None, {name: x})[0].reshape(-1)   # softmaxout_1: [1, 1000, 1, 1]

    labels = None
    if args.labels:
        with open(args.labels, encoding="utf-8") as f:
            labels = [line.strip() for line in f]
    order = np.argsort(-probs, kind="stable")[: args.top]
    print(f"model: {os.path.relpath(model)}")
    for rank, idx in enumerate(order, 1):
        label = labels[idx] if labels else f"class {idx}"
        print(f"{rank}. {label:<30} {probs[idx]:.6f}")
    if np.ptp(probs) == 0:
        print("note: all 1000 scores are equal; this graph carries placeholder weights (see README.md)")


if __name__ == "__main__":
    main()
