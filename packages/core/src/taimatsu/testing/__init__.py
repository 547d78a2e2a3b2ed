"""Test helpers shared by every package: assert_close and the declarative OpCase harness."""

from ._comparison import DEFAULT_TOLERANCES, assert_close, to_numpy
from ._module_case import check_module_parity, load_torch_state
from ._op_case import FLOATS, Arg, OpCase, generate_parity_tests, generate_tests

__all__ = ["assert_close", "to_numpy", "DEFAULT_TOLERANCES", "Arg", "OpCase", "FLOATS",
           "generate_tests", "generate_parity_tests", "check_module_parity", "load_torch_state"]
