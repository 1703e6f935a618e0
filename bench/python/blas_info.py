"""What a Python baseline ran on: the BLAS library and kernel actually in use, its threads, and the load.

Imported by the bench scripts in bench/torch and bench/numpy; their JSON output carries `baseline_env()`.
"""
import os


def baseline_env() -> dict:
    info: dict = {
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        from threadpoolctl import threadpool_info
        # threadpoolctl reads the kernel OpenBLAS picked at load time ("architecture"): the honest answer to
        # "which kernels ran", whatever the environment asked for.
        info["blas"] = [
            {k: pool.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "threading_layer", "filepath")}
            for pool in threadpool_info()
        ]
    except ImportError:
        info["blas"] = "threadpoolctl not installed (apt-get install -y python3-threadpoolctl)"
    try:
        import torch
        info["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    except ImportError:
        pass
    return info
