"""Comparison, logical and bitwise ops against PyTorch: values and dtypes."""

from op_cases.comparison import CASES

from taimatsu.testing import generate_parity_tests

globals().update(generate_parity_tests(CASES))
