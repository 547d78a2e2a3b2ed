"""taimatsu.cuda's RNG state functions answer as torch's do on a machine without CUDA."""

import pytest

import taimatsu as tm


@pytest.fixture
def no_cuda(torch):
    if torch.cuda.is_available() or tm.cuda.is_available():
        pytest.skip("checks the behaviour without CUDA")
    return torch


def test_get_rng_state_needs_cuda(no_cuda):
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        no_cuda.cuda.get_rng_state()
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        tm.cuda.get_rng_state()


def test_state_lists_are_empty_and_setting_is_deferred(no_cuda):
    assert tm.cuda.get_rng_state_all() == no_cuda.cuda.get_rng_state_all() == []
    no_cuda.cuda.set_rng_state(no_cuda.zeros(16, dtype=no_cuda.uint8))
    tm.cuda.set_rng_state(tm.zeros(16, dtype=tm.uint8))
    tm.cuda.set_rng_state_all([tm.zeros(16, dtype=tm.uint8)])
