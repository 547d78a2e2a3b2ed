"""taimatsu.stft / istft and the window functions against PyTorch (skipped without torch)."""

import numpy as np
import pytest
from op_cases.spectral import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_parity_tests

globals().update(generate_parity_tests(CASES))

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("length", [0, 1, 2, 7, 64])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(torch, name, length, periodic):
    ours = getattr(tm, name)(length, periodic, dtype=tm.float64)
    theirs = getattr(torch, name)(length, periodic, dtype=torch.float64)
    assert_close(ours, theirs.numpy(), atol=1e-12, rtol=0)


def test_window_extra_parameters_match_torch(torch):
    assert_close(tm.kaiser_window(9, False, beta=3.5, dtype=tm.float64),
                 torch.kaiser_window(9, False, beta=3.5, dtype=torch.float64).numpy())
    assert_close(tm.hamming_window(9, True, 0.5, 0.5, dtype=tm.float64),
                 torch.hamming_window(9, True, 0.5, 0.5, dtype=torch.float64).numpy())


def test_stft_istft_roundtrip_matches_torch_on_audio_sizes(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 16000)).astype(np.float32)
    ours = tm.stft(tm.from_numpy(x), 400, 160, window=tm.hann_window(400), return_complex=True)
    theirs = torch.stft(torch.from_numpy(x), 400, 160, window=torch.hann_window(400),
                        return_complex=True)
    assert_close(ours, theirs.numpy(), atol=2e-4, rtol=1e-4)
    back = tm.istft(ours, 400, 160, window=tm.hann_window(400), length=16000)
    ref = torch.istft(theirs, 400, 160, window=torch.hann_window(400), length=16000)
    assert_close(back, ref.numpy(), atol=1e-5, rtol=1e-5)


def test_return_complex_false_matches_view_as_real(torch):
    x = np.random.default_rng(1).standard_normal(50)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        ours = tm.stft(tm.tensor(x), 16, window=tm.hann_window(16, dtype=tm.float64),
                       return_complex=False)
    with pytest.warns(UserWarning):
        theirs = torch.stft(torch.tensor(x), 16, window=torch.hann_window(16, dtype=torch.float64),
                            return_complex=False)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert_close(ours, theirs.numpy())


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.stft(x, 400),
    lambda lib, x: lib.stft(x, 2000, return_complex=True, center=False),
    lambda lib, x: lib.stft(x, 400, hop_length=0, return_complex=True),
    lambda lib, x: lib.stft(x, 400, win_length=500, return_complex=True),
    lambda lib, x: lib.stft(x, 400, return_complex=True, align_to_window=True),
    lambda lib, x: lib.stft(x.reshape(1, 2, 500), 40, return_complex=True),
])
def test_stft_errors_match_torch(torch, call):
    x = np.random.default_rng(2).standard_normal(1000).astype(np.float32)
    with pytest.raises(RuntimeError) as theirs:
        call(torch, torch.from_numpy(x))
    with pytest.raises(RuntimeError) as ours:
        call(tm, tm.from_numpy(x))
    # the same reason after torch's "stft(<tensor description>) :" prefix
    assert str(ours.value).split(" : ")[-1] == str(theirs.value).split(" : ")[-1]
