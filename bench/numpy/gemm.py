"""numpy (OpenBLAS) fp32 GEMM reference for bench/operators.ts: C = A @ B, square N, on ONE thread.

Timed like the board agent: calls for --warmup-ms (at least one), then `repeat` samples of `number` calls each, with
`number` grown until one sample lasts at least --min-repeat-ms. Prints one JSON line with the median and best seconds per call, GFLOP/s
(2*N^3 / time) and baseline_env() (the OpenBLAS kernel actually in use, its threads, the load average).

Run (native kernels: bench/python-baseline.ts unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for this command only):
  /usr/bin/python3 bench/numpy/gemm.py --n 512 [--n 1024 ...] [--repeat 7] [--min-repeat-ms 50] [--warmup-ms 0]
"""
import argparse
import json
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from blas_info import baseline_env


def measure(n: int, repeat: int, min_repeat_s: float, warmup_s: float) -> dict:
    rng = np.random.default_rng(42)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    start = time.perf_counter()
    np.matmul(a, b, out=c)  # warm-up: first-touch of the output and BLAS buffers
    while time.perf_counter() - start < warmup_s:
        np.matmul(a, b, out=c)
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            np.matmul(a, b, out=c)
        if time.perf_counter() - start >= min_repeat_s:
            break
        number *= 2
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            np.matmul(a, b, out=c)
        samples.append((time.perf_counter() - start) / number)
    # The result is checked, so a broken BLAS cannot report a fast wrong answer.
    ref = a[:8].astype(np.float64) @ b.astype(np.float64)
    if not np.allclose(c[:8], ref, rtol=1e-4, atol=1e-3):
        raise SystemExit(f"numpy fp32 GEMM {n} differs from the float64 reference")
    flops = 2.0 * n * n * n
    median, best = statistics.median(samples), min(samples)
    return {
        "n": n,
        "number": number,
        "repeat": repeat,
        "median_s": median,
        "min_s": best,
        "gflops_per_s": flops / median / 1e9,
        "gflops_per_s_best": flops / best / 1e9,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, action="append", required=True)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--min-repeat-ms", type=float, default=50)
    parser.add_argument("--warmup-ms", type=float, default=0)
    args = parser.parse_args()
    with threadpool_limits(1):
        results = [measure(n, args.repeat, args.min_repeat_ms / 1000, args.warmup_ms / 1000) for n in args.n]
        env = baseline_env()  # inside the limit, so it reports the one thread that ran
    print(json.dumps({"numpy": np.__version__, "threads": 1, "gemm_f32": results, "baseline_env": env}))


if __name__ == "__main__":
    main()
