"""PyTorch reference for bench/train-step.ts: the same workloads, batch sizes and optimiser on CPU with 2 threads.

Prints one JSON object (with baseline_env: BLAS kernel, threads, load). Run through bench/python-baseline.ts, which
unsets the variables that force slower BLAS kernels and puts bench/python on PYTHONPATH:
PYTHONPATH=bench/python /usr/bin/python3 bench/torch/train_step.py [--steps N] [--threads T]
"""
import argparse
import json
import statistics
import time

import torch
from blas_info import baseline_env
from torch import nn


def mlp_sfc_bn() -> nn.Module:
    layers: list[nn.Module] = []
    width = 784
    for _ in range(3):
        layers += [nn.Linear(width, 256), nn.BatchNorm1d(256, momentum=0.1, eps=1e-5), nn.ReLU()]
        width = 256
    layers.append(nn.Linear(256, 10))
    return nn.Sequential(*layers)


def lenet5_bn() -> nn.Module:
    # First conv padded by 2 ('same'), matching bench/models.ts.
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.BatchNorm1d(120), nn.ReLU(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.ReLU(),
        nn.Linear(84, 10),
    )


WORKLOADS = {"mlp-sfc-bn": (mlp_sfc_bn, (784,)), "lenet5-bn": (lenet5_bn, (1, 28, 28))}


def timings_ms(fn, warmup: int, steps: int) -> tuple[float, float]:
    """(median, minimum) per call; on a shared machine the minimum is the least-disturbed figure."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def loaded_blas() -> str:
    """Which BLAS the process actually mapped (Debian's torch links the generic libblas alternative)."""
    try:
        with open("/proc/self/maps") as maps:
            names = {line.split()[-1] for line in maps if "blas" in line.lower()}
    except OSError:
        return "unknown"
    return ", ".join(sorted(names)) or "none mapped"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results = []
    for name, (build, shape) in WORKLOADS.items():
        for batch in (64, 256):
            model = build()
            optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
            loss_fn = nn.CrossEntropyLoss()
            x = torch.randn(batch, *shape)
            y = torch.randint(0, 10, (batch,))

            def train_step() -> None:
                optimiser.zero_grad(set_to_none=True)
                loss = loss_fn(model(x), y)
                loss.backward()
                optimiser.step()
                loss.item()

            model.train()
            train_ms, train_min = timings_ms(train_step, 5, args.steps)
            model.eval()

            def infer() -> None:
                with torch.no_grad():
                    model(x).sum().item()

            infer_ms, infer_min = timings_ms(infer, 5, args.steps)
            results.append({
                "model": name, "batch": batch, "trainStepMs": round(train_ms, 3), "trainStepMinMs": round(train_min, 3),
                "inferSamplesPerSec": round(batch / (infer_ms / 1000)), "inferSamplesPerSecMax": round(batch / (infer_min / 1000)),
            })
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "blas": loaded_blas(), "results": results, "baseline_env": baseline_env(),
    }))


if __name__ == "__main__":
    main()
