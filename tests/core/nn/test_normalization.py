"""nn.functional normalization ops and the norm layers: generated op cases plus edge cases."""

import re
import warnings

import numpy as np
import pytest
from op_cases.nn_norm import NORM_CASES

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(NORM_CASES))


RNG = np.random.default_rng(0)


def randn(*shape, dtype=tm.float64, requires_grad=False, scale=1.0, shift=0.0):
    data = RNG.standard_normal(shape) * scale + shift
    return tm.tensor(data, dtype=dtype, requires_grad=requires_grad)


# -- batch_norm -------------------------------------------------------------------------------

def test_batch_norm_training_normalizes_each_channel():
    x = randn(8, 3, 5, scale=3.0, shift=2.0)
    y = F.batch_norm(x, None, None, training=True).numpy()
    assert_close(y.mean(axis=(0, 2)), np.zeros(3), atol=1e-12, rtol=0)
    assert_close(y.var(axis=(0, 2)), np.ones(3) * (1 - 1e-5 / 9.0), atol=1e-3, rtol=0)


def test_batch_norm_updates_running_stats_with_unbiased_variance():
    x = randn(6, 2, 4)
    rm = tm.tensor([0.5, -1.0], dtype=tm.float64)
    rv = tm.tensor([2.0, 3.0], dtype=tm.float64)
    before = rm._version
    F.batch_norm(x, rm, rv, training=True, momentum=0.25)
    xs = x.numpy().transpose(1, 0, 2).reshape(2, -1)
    assert_close(rm, 0.75 * np.array([0.5, -1.0]) + 0.25 * xs.mean(1))
    assert_close(rv, 0.75 * np.array([2.0, 3.0]) + 0.25 * xs.var(1, ddof=1))
    assert rm._version == before + 1


def test_batch_norm_eval_uses_running_stats():
    x = randn(4, 3)
    rm, rv = tm.tensor([1.0, 2.0, 3.0]), tm.tensor([4.0, 0.25, 1.0])
    w, b = tm.tensor([2.0, 1.0, -1.0]), tm.tensor([0.0, 1.0, 0.5])
    y = F.batch_norm(x.float(), rm, rv, w, b, training=False, eps=0.0)
    expected = (x.numpy() - [1, 2, 3]) / np.sqrt([4.0, 0.25, 1.0]) * [2, 1, -1] + [0, 1, 0.5]
    assert_close(y, expected.astype(np.float32))
    assert rm.tolist() == [1.0, 2.0, 3.0]  # eval never updates


def test_batch_norm_errors_match_torch():
    with pytest.raises(ValueError, match=re.escape(
            "Expected more than 1 value per channel when training, got input size "
            "taimatsu.Size([1, 3])")):
        F.batch_norm(tm.ones(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(tm.ones(4, 3), tm.zeros(4), tm.ones(3))
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 2"):
        F.batch_norm(tm.ones(4, 3), tm.zeros(3), tm.ones(3), weight=tm.ones(2))
    with pytest.raises(RuntimeError, match="running_var must be defined in evaluation mode"):
        F.batch_norm(tm.ones(4, 3), tm.zeros(3), None)
    with pytest.raises(ValueError, match="batch_norm eps must be positive during training, "
                                         "but got 0"):
        F.batch_norm(tm.ones(4, 3), None, None, training=True, eps=0)


def test_batch_norm_half_input_keeps_dtype_and_accuracy():
    x = randn(16, 4, 3, dtype=tm.float32, scale=2.0, shift=1.0)
    w = tm.ones(4, dtype=tm.float16, requires_grad=True)
    xh = x.half().requires_grad_()
    y = F.batch_norm(xh, None, None, w, None, training=True)
    assert y.dtype is tm.float16
    assert_close(y.float(), F.batch_norm(x, None, None, training=True), atol=2e-3, rtol=2e-3)
    y.sum().backward()
    assert xh.grad.dtype is tm.float16 and w.grad.dtype is tm.float16


def test_inplace_op_on_unscaled_output_keeps_gradients_right():
    # Without affine the output is x_hat itself: backward must not read it back.
    x = randn(5, 3, requires_grad=True)
    g = randn(5, 3)
    F.batch_norm(x, None, None, training=True).relu().backward(g)
    expected = x.grad.clone()
    x.grad = None
    F.batch_norm(x, None, None, training=True).relu_().backward(g)
    assert_close(x.grad, expected)


def test_batch_norm_second_derivative_in_training():
    x = randn(4, 2, requires_grad=True)
    w = randn(2, requires_grad=True)
    assert tm.autograd.gradgradcheck(
        lambda a, b: F.batch_norm(a, None, None, b, None, training=True), (x, w))


# -- BatchNorm layers -------------------------------------------------------------------------

def test_batchnorm_layer_defaults_and_buffers():
    m = nn.BatchNorm2d(3)
    assert m.weight.tolist() == [1.0] * 3 and m.bias.tolist() == [0.0] * 3
    assert list(m.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                    "num_batches_tracked"]
    assert m.num_batches_tracked.dtype is tm.int64 and m.num_batches_tracked.item() == 0
    assert repr(m) == ("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                       "track_running_stats=True)")


def test_batchnorm_momentum_none_is_a_cumulative_average():
    m = nn.BatchNorm1d(2, momentum=None)
    batches = [randn(5, 2, dtype=tm.float32, shift=k) for k in range(3)]
    for x in batches:
        m(x)
    assert m.num_batches_tracked.item() == 3
    means = np.mean([b.numpy().mean(0) for b in batches], axis=0)
    assert_close(m.running_mean, means.astype(np.float32))


def test_batchnorm_eval_and_untracked_modes():
    m = nn.BatchNorm1d(3)
    x = randn(6, 3, dtype=tm.float32, shift=5.0)
    m(x)
    m.eval()
    y = m(x)
    expected = (x.numpy() - m.running_mean.numpy()) / np.sqrt(m.running_var.numpy() + 1e-5)
    assert_close(y, expected)
    free = nn.BatchNorm1d(3, track_running_stats=False).eval()
    assert free.running_mean is None and free.num_batches_tracked is None
    assert_close(free(x).mean(0), tm.zeros(3), atol=1e-5, rtol=0)


@pytest.mark.parametrize("cls, bad, message", [
    (nn.BatchNorm1d, (2, 3, 4, 5), "expected 2D or 3D input (got 4D input)"),
    (nn.BatchNorm2d, (2, 3, 4), "expected 4D input (got 3D input)"),
    (nn.BatchNorm3d, (2, 3, 4, 5), "expected 5D input (got 4D input)"),
    (nn.SyncBatchNorm, (3,), "expected at least 2D input (got 1D input)"),
])
def test_batchnorm_rejects_wrong_rank(cls, bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cls(3)(tm.ones(*bad))


def test_batchnorm_rejects_wrong_channel_count():
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 3"):
        nn.BatchNorm2d(3)(tm.ones(2, 4, 3, 3))


def test_batchnorm_loads_checkpoint_without_num_batches_tracked():
    m = nn.BatchNorm1d(2)
    state = m.state_dict()
    del state["num_batches_tracked"]
    state._metadata[""]["version"] = 1
    result = m.load_state_dict(state)
    assert not result.missing_keys and m.num_batches_tracked.item() == 0


def test_sync_batchnorm_converts_and_matches_batchnorm():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    sync = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(sync[1], nn.SyncBatchNorm)
    assert sync[1].weight is net[1].weight and sync[1].running_mean is net[1].running_mean
    x = randn(5, 4, dtype=tm.float32)
    assert_close(nn.SyncBatchNorm(4)(x), nn.BatchNorm1d(4)(x))


def test_lazy_batchnorm_infers_features():
    m = nn.LazyBatchNorm2d()
    y = m(randn(2, 5, 3, 3, dtype=tm.float32))
    assert type(m) is nn.BatchNorm2d and m.num_features == 5
    assert m.weight.shape == (5,) and m.running_var.tolist() != [1.0] * 5
    assert y.shape == (2, 5, 3, 3)


# -- instance norm ----------------------------------------------------------------------------

def test_instance_norm_normalizes_each_sample_and_channel():
    x = randn(2, 3, 10, shift=4.0)
    y = F.instance_norm(x).numpy()
    assert_close(y.mean(-1), np.zeros((2, 3)), atol=1e-12, rtol=0)


def test_instance_norm_running_stats_average_over_samples():
    x = randn(4, 2, 6)
    rm, rv = tm.zeros(2, dtype=tm.float64), tm.ones(2, dtype=tm.float64)
    F.instance_norm(x, rm, rv, momentum=0.5)
    xs = x.numpy()
    assert_close(rm, 0.5 * xs.mean(-1).mean(0))
    assert_close(rv, 0.5 + 0.5 * xs.var(-1, ddof=1).mean(0))


def test_instance_norm_errors():
    with pytest.raises(ValueError, match=re.escape(
            "Expected more than 1 spatial element when training, got input size "
            "taimatsu.Size([4, 3, 1])")):
        F.instance_norm(tm.ones(4, 3, 1))
    with pytest.raises(RuntimeError, match="Expected running_mean and running_var to be "
                                           "defined when use_input_stats is false"):
        F.instance_norm(tm.ones(2, 3, 4), use_input_stats=False)
    with pytest.raises(ValueError, match=re.escape(
            "expected input's size at dim=1 to match num_features (3), but got: 4.")):
        nn.InstanceNorm1d(3, affine=True)(tm.ones(2, 4, 5))
    with pytest.raises(ValueError, match=re.escape("expected 3D or 4D input (got 2D input)")):
        nn.InstanceNorm2d(3)(tm.ones(2, 4))


def test_instance_norm_layer_unbatched_tracking_and_warning():
    m = nn.InstanceNorm2d(3, track_running_stats=True)
    x = randn(3, 4, 4, dtype=tm.float32)
    y = m(x)
    assert y.shape == (3, 4, 4) and m.num_batches_tracked is not None
    assert not np.allclose(m.running_mean.numpy(), 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.InstanceNorm1d(5)(tm.ones(2, 3, 4))
    assert any("does not match num_features" in str(w.message) for w in caught)
    assert repr(nn.InstanceNorm1d(3)) == ("InstanceNorm1d(3, eps=1e-05, momentum=0.1, "
                                          "affine=False, bias=False, "
                                          "track_running_stats=False)")


# -- layer norm, group norm, rms norm, lrn, normalize -----------------------------------------

def test_layer_norm_errors_match_torch():
    with pytest.raises(RuntimeError, match=re.escape(
            "Given normalized_shape=[2, 4], expected input with shape [*, 2, 4], but got input "
            "of size[2, 3, 4]")):
        F.layer_norm(tm.ones(2, 3, 4), (2, 4))
    with pytest.raises(RuntimeError, match=re.escape(
            "Expected weight to be of same shape as normalized_shape, but got weight of shape "
            "[4] and normalized_shape = [3]")):
        F.layer_norm(tm.ones(4, 3), (3,), weight=tm.ones(4))
    with pytest.raises(RuntimeError, match="Expected normalized_shape to be at least "
                                           "1-dimensional"):
        F.layer_norm(tm.ones(3), ())


def test_layer_norm_layer():
    m = nn.LayerNorm([3, 4], bias=False)
    assert m.normalized_shape == (3, 4) and m.bias is None
    assert repr(m) == "LayerNorm((3, 4), eps=1e-05, elementwise_affine=True, bias=False)"
    y = m(randn(2, 3, 4, dtype=tm.float32, shift=3.0)).detach().numpy()
    assert_close(y.reshape(2, -1).mean(1), np.zeros(2, np.float32), atol=1e-6, rtol=0)


def test_layer_norm_is_exact_for_large_offsets():
    # A large common offset cancels in x - mean; a one-pass E[x^2] - E[x]^2 would not.
    x = randn(4, 64, dtype=tm.float32) + 1e4
    y = F.layer_norm(x, (64,))
    ref = (x.double() - x.double().mean(-1, keepdim=True)) / x.double().std(
        -1, unbiased=False, keepdim=True)
    assert_close(y, ref.float(), atol=2e-3, rtol=0)


def test_group_norm_errors_and_layer():
    with pytest.raises(RuntimeError, match=re.escape(
            "Expected number of channels in input to be divisible by num_groups, but got input "
            "of shape [4, 6] and num_groups=4")):
        F.group_norm(tm.ones(4, 6), 4)
    with pytest.raises(RuntimeError, match=re.escape(
            "Expected weight to be a vector of size equal to the number of channels in input, "
            "but got weight of shape [4] and input of shape [4, 6]")):
        F.group_norm(tm.ones(4, 6), 3, weight=tm.ones(4))
    with pytest.raises(ValueError, match=re.escape(
            "num_channels (6) must be divisible by num_groups (4)")):
        nn.GroupNorm(4, 6)
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"


def test_rms_norm_default_eps_is_machine_epsilon():
    x = tm.tensor([[1e-4, -2e-4, 3e-4]])
    y = F.rms_norm(x, (3,))
    eps = np.finfo(np.float32).eps
    xs = x.numpy().astype(np.float64)
    assert_close(y, (xs / np.sqrt((xs ** 2).mean() + eps)).astype(np.float32))
    assert repr(nn.RMSNorm(4)) == "RMSNorm((4,), eps=None, elementwise_affine=True)"


def test_local_response_norm_and_normalize_edge_cases():
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality"):
        F.local_response_norm(tm.ones(4, 3), 2)
    empty = tm.ones(0, 3, 4)
    assert F.local_response_norm(empty, 2) is empty
    assert repr(nn.LocalResponseNorm(2)) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)"
    out = tm.empty(2, 3)
    F.normalize(tm.zeros(2, 3), out=out)
    assert out.tolist() == [[0.0] * 3] * 2  # eps keeps 0 / 0 away


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_inference_path_equals_recorded_path(affine):
    # Without a graph, eval-mode batch norm folds into one multiply-add; it must agree
    # with the path that keeps x_hat for backward.
    m = nn.BatchNorm2d(3, affine=affine).eval()
    m.running_mean.uniform_(-1, 1)
    m.running_var.uniform_(0.5, 2.0)
    if affine:
        with tm.no_grad():
            m.weight.uniform_(-1, 1)
            m.bias.uniform_(-1, 1)
    x = tm.randn(2, 3, 4, 4)
    with tm.no_grad():
        fast = m(x)
    slow = m(x.clone().requires_grad_(True))
    assert_close(fast, slow.detach(), rtol=1e-6, atol=1e-6)
