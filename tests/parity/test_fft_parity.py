"""FFTs against PyTorch: values, dtypes and gradients."""

from op_cases.fft import CASES

from taimatsu.testing import generate_parity_tests

globals().update(generate_parity_tests(CASES))
