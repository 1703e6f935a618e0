"""Naive PyTorch walking-noise sweep, the reference for bench/walking-noise.ts: for every injection point, every σ of a
49-point log grid and every repeat, one full forward pass over the test set with additive noise at that point.

The network is rebuilt from Benchside's ModelSpec (JSON) and its weights NPZ (names `<point id>/<weight>`, dense
kernels [in, out], conv kernels HWIO). Prints one JSON object. With --cells-per-point K only K cells per point are run
(spread evenly over the σ × repeat grid) and the full sweep's time is extrapolated from them (labelled as such);
the default, --cells-per-point 0, runs every cell. Run it through bench/python-baseline.ts, which removes the
variables that force slower BLAS kernels; the JSON reports the kernel actually used (`baseline_env`).

Run: /usr/bin/python3 bench/torch/walking_noise.py --spec spec.json --weights w.npz --data DIR --mean M --std S
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from blas_info import baseline_env


def read_idx(path: str) -> np.ndarray:
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder: str, stem: str) -> str:
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise FileNotFoundError(os.path.join(folder, stem))


class SpecNet:
    """Executes the spec's nodes in order (NCHW inside), adding noise at one point."""

    def __init__(self, spec: dict, weights: dict):
        self.nodes = spec["nodes"]
        # The last node reading each value: a value is dropped after it, as a hand-written forward() would drop it.
        # Keeping every intermediate alive costs fresh allocations (page faults) per pass, about 2.5× the time.
        self.last_use = {}
        for index, node in enumerate(self.nodes):
            if "input" in node:
                self.last_use[node["input"]] = index
        self.w = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()}
        for node in self.nodes:
            if node["op"] == "conv2d":
                # HWIO → OIHW
                self.w[node["id"] + "/kernel"] = self.w[node["id"] + "/kernel"].permute(3, 2, 0, 1).contiguous()
            if node["op"] == "dense":
                self.w[node["id"] + "/kernel"] = self.w[node["id"] + "/kernel"].t().contiguous()

    def forward(self, x: torch.Tensor, point: str | None = None, sigma: float = 0.0, generator: torch.Generator | None = None) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {}
        for index, node in enumerate(self.nodes):
            op, nid = node["op"], node["id"]
            if op == "input":
                v = x
            else:
                a = values[node["input"]] if "input" in node else None
                if op == "dense":
                    v = F.linear(a, self.w[nid + "/kernel"], self.w.get(nid + "/bias"))
                elif op == "conv2d":
                    k = node["kernel"]
                    stride = node.get("stride", 1)
                    dilation = node.get("dilation", 1)
                    padding = (dilation * (k - 1)) // 2 if node.get("padding", "same") == "same" else 0
                    if node.get("padding", "same") == "same" and stride != 1:
                        raise NotImplementedError("strided 'same' convolutions")
                    v = F.conv2d(a, self.w[nid + "/kernel"], self.w.get(nid + "/bias"), stride=stride, padding=padding, dilation=dilation)
                elif op == "batchNorm":
                    v = F.batch_norm(a, self.w[nid + "/moving_mean"], self.w[nid + "/moving_variance"], self.w[nid + "/gamma"], self.w[nid + "/beta"], False, 0.0, 1e-5)
                elif op == "relu":
                    v = F.relu(a)
                elif op == "maxPool":
                    if node.get("padding", "valid") != "valid":
                        raise NotImplementedError("'same' pooling")
                    v = F.max_pool2d(a, node["size"], node.get("stride", node["size"]))
                elif op == "flatten":
                    # Benchside flattens HWC; the tensors here are CHW.
                    v = a.permute(0, 2, 3, 1).reshape(a.shape[0], -1) if a.dim() == 4 else a.reshape(a.shape[0], -1)
                else:
                    raise NotImplementedError(op)
            if nid == point and sigma != 0.0:
                v = v + sigma * torch.randn(v.shape, generator=generator)
            values[nid] = v
            if "input" in node and self.last_use[node["input"]] == index:
                del values[node["input"]]
        return values[self.nodes[-1]["id"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--mean", type=float, required=True)
    parser.add_argument("--std", type=float, required=True)
    parser.add_argument("--points", default="")
    parser.add_argument("--sigmas", type=int, default=49)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cells-per-point", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    # 0: the whole test set in one forward, the fastest here; batches of 1000 (Benchside's) took 1.5-2.8x longer per
    # cell past the first layer (per-call overhead on 2 threads), so they would flatter the ratio.
    parser.add_argument("--batch", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with open(args.spec) as f:
        spec = json.load(f)
    net = SpecNet(spec, dict(np.load(args.weights)))
    images = read_idx(find(args.data, "t10k-images-idx3-ubyte")).astype(np.float32)
    labels = torch.from_numpy(read_idx(find(args.data, "t10k-labels-idx1-ubyte")).astype(np.int64))
    x = torch.from_numpy((images / 255.0 - args.mean) / args.std).float().unsqueeze(1)  # N, 1, 28, 28
    sigmas = np.logspace(-2, 10, args.sigmas)
    grid = [(s, r) for s in sigmas for r in range(args.repeats)]
    points = [p for p in args.points.split(",") if p] or [n["id"] for n in spec["nodes"] if n["op"] != "input"]

    def accuracy(point: str | None, sigma: float, seed: int) -> float:
        generator = torch.Generator().manual_seed(seed)
        batch = args.batch or x.shape[0]
        correct = 0
        with torch.no_grad():
            for start in range(0, x.shape[0], batch):
                logits = net.forward(x[start:start + batch], point, sigma, generator)
                correct += int((logits.argmax(-1) == labels[start:start + batch]).sum())
        return correct / x.shape[0]

    start = time.perf_counter()
    clean = accuracy(None, 0.0, 0)
    clean_seconds = time.perf_counter() - start
    results = []
    total_measured = 0.0
    total_estimated = 0.0
    for p_index, point in enumerate(points):
        if args.cells_per_point > 0:
            step = len(grid) / args.cells_per_point
            chosen = [grid[int(i * step + step / 2)] for i in range(args.cells_per_point)]
        else:
            chosen = grid
        cells = []
        start = time.perf_counter()
        for c_index, (sigma, repeat) in enumerate(chosen):
            cells.append({"sigma": float(sigma), "repeat": repeat, "accuracy": accuracy(point, float(sigma), 1000 * p_index + c_index)})
        seconds = time.perf_counter() - start
        estimated = seconds / len(chosen) * len(grid)
        total_measured += seconds
        total_estimated += estimated
        results.append({"point": point, "measuredCells": len(chosen), "measuredSeconds": seconds, "estimatedSweepSeconds": estimated, "cells": cells})
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "testSamples": int(labels.shape[0]),
        "cleanAccuracy": clean,
        "cleanPassSeconds": clean_seconds,
        "cellsPerPoint": len(grid),
        "extrapolated": args.cells_per_point > 0,
        "measuredSeconds": total_measured,
        "sweepSeconds": total_estimated,
        "points": results,
        "baseline_env": baseline_env(),
    }))


if __name__ == "__main__":
    main()
