"""Parity of ops/join.py against PyTorch: generated cases plus hand-written checks."""

import builtins

import pytest
from op_cases.join import CASES, ERRORS

from taimatsu.testing import generate_parity_tests

globals().update(generate_parity_tests(CASES))


@pytest.mark.parametrize("call, exc, message", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_torch_raises_the_same_errors(call, exc, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(getattr(builtins, exc)) as info:
        call(torch)
    assert str(info.value) == message


@pytest.mark.parametrize("dtypes", [("int64", "float16"), ("bool", "uint8"), ("int8", "uint8"),
                                    ("float32", "complex64"), ("int32", "int64", "float32")])
def test_promotion_matches_torch(dtypes):
    torch = pytest.importorskip("torch")
    import taimatsu as tm
    ours = tm.cat([tm.zeros(2, dtype=getattr(tm, d)) for d in dtypes]).dtype
    theirs = torch.cat([torch.zeros(2, dtype=getattr(torch, d)) for d in dtypes]).dtype
    assert ours.name == str(theirs).replace("torch.", "")
