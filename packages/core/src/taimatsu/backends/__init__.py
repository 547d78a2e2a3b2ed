"""taimatsu.backends: what each compute backend offers, and the flags scripts set on them.

    taimatsu.backends.cudnn.benchmark = True
    taimatsu.backends.cuda.matmul.allow_tf32 = True
    taimatsu.backends.mps.is_available()   # False
"""

from . import cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
