"""Ranges without a kernel for a dtype raise as torch does; the ones with one agree."""

import numpy as np
import pytest

import taimatsu as tm

CASES = [
    ("arange", (0, 3), {}), ("arange", (0, 0), {}), ("arange", (0, 5, 2), {}),
    ("linspace", (0, 1, 3), {}), ("linspace", (0, 1, 1), {}), ("linspace", (0, 1, 0), {}),
    ("logspace", (0, 1, 3), {}), ("logspace", (0, 1, 1), {}), ("logspace", (0, 1, 0), {}),
    ("tril_indices", (3, 3), {}), ("triu_indices", (3, 4, 1), {}),
]


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "float16", "float32"])
@pytest.mark.parametrize("name, args, kwargs", CASES)
def test_range_dtypes_as_torch(torch, name, args, kwargs, dtype):
    try:
        expected = getattr(torch, name)(*args, dtype=getattr(torch, dtype), **kwargs)
    except NotImplementedError as exc:
        with pytest.raises(NotImplementedError) as ours:
            getattr(tm, name)(*args, dtype=getattr(tm, dtype), **kwargs)
        assert str(ours.value) == str(exc)
        return
    result = getattr(tm, name)(*args, dtype=getattr(tm, dtype), **kwargs)
    assert str(result.dtype) == str(expected.dtype).replace("torch", "taimatsu")
    np.testing.assert_array_equal(result.float().numpy(), expected.float().numpy())
