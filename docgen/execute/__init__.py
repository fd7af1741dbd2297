"""Running notebooks: the stage that plans, the local kernel pool, kernels, GPUs, the cache."""
