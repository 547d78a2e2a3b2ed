"""taimatsu_vision.ops against direct NumPy references (loops written from the definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu_vision import ops


def _boxes(rng, n, size=50.0, dtype=np.float32):
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(1, size / 2, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(dtype)


# -- areas and IoUs -----------------------------------------------------------------------


def _iou_ref(a, b):
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            inter = w * h
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
            out[i, j] = inter / union
    return out


def _giou_ref(a, b):
    out = _iou_ref(a, b)
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - w * h
            hull = (max(p[2], q[2]) - min(p[0], q[0])) * (max(p[3], q[3]) - min(p[1], q[1]))
            out[i, j] -= (hull - union) / hull
    return out


def test_box_area_iou_and_giou_match_their_definitions():
    rng = np.random.default_rng(0)
    a, b = _boxes(rng, 7, dtype=np.float64), _boxes(rng, 5, dtype=np.float64)
    np.testing.assert_allclose(ops.box_area(tm.tensor(a)).numpy(),
                               (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]))
    np.testing.assert_allclose(ops.box_iou(tm.tensor(a), tm.tensor(b)).numpy(), _iou_ref(a, b),
                               rtol=1e-12)
    np.testing.assert_allclose(ops.generalized_box_iou(tm.tensor(a), tm.tensor(b)).numpy(),
                               _giou_ref(a, b), rtol=1e-12, atol=1e-12)


def test_box_iou_of_integer_boxes_is_float_and_disjoint_boxes_give_zero():
    a = tm.tensor([[0, 0, 10, 10]], dtype=tm.int64)
    b = tm.tensor([[5, 5, 15, 15], [20, 20, 30, 30]], dtype=tm.int64)
    iou = ops.box_iou(a, b)
    assert iou.dtype == tm.float32
    np.testing.assert_allclose(iou.numpy(), [[25 / 175, 0.0]], rtol=1e-6)
    assert ops.box_area(a).dtype == tm.int64


def test_box_iou_is_differentiable():
    a = tm.tensor(_boxes(np.random.default_rng(1), 3, dtype=np.float64), requires_grad=True)
    b = tm.tensor(_boxes(np.random.default_rng(2), 4, dtype=np.float64))
    assert tm.autograd.gradcheck(lambda x: ops.generalized_box_iou(x, b), (a,))


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_box_convert_round_trips_and_matches_the_formats(fmt):
    boxes = np.array([[10.0, 20.0, 30.0, 60.0], [0.0, 0.0, 4.0, 2.0]])
    expected = {"xywh": [[10, 20, 20, 40], [0, 0, 4, 2]],
                "cxcywh": [[20, 40, 20, 40], [2, 1, 4, 2]]}[fmt]
    converted = ops.box_convert(tm.tensor(boxes), "xyxy", fmt)
    np.testing.assert_allclose(converted.numpy(), expected)
    np.testing.assert_allclose(ops.box_convert(converted, fmt, "xyxy").numpy(), boxes)
    other = "cxcywh" if fmt == "xywh" else "xywh"
    np.testing.assert_allclose(
        ops.box_convert(ops.box_convert(converted, fmt, other), other, fmt).numpy(), expected)


def test_box_convert_same_format_copies_and_bad_format_raises():
    boxes = tm.tensor([[1.0, 2.0, 3.0, 4.0]])
    same = ops.box_convert(boxes, "xyxy", "xyxy")
    same[0, 0] = 9.0
    assert boxes[0, 0].item() == 1.0
    with pytest.raises(ValueError, match="Unsupported Bounding Box Conversions"):
        ops.box_convert(boxes, "xyxy", "yxyx")


def test_clip_boxes_to_image_and_remove_small_boxes():
    boxes = tm.tensor([[-5.0, 3.0, 120.0, 40.0], [10.0, -1.0, 11.0, 90.0]])
    clipped = ops.clip_boxes_to_image(boxes, (50, 100))
    np.testing.assert_allclose(clipped.numpy(), [[0, 3, 100, 40], [10, 0, 11, 50]])
    keep = ops.remove_small_boxes(clipped, 2.0)
    assert keep.dtype == tm.int64 and keep.tolist() == [0]


# -- non-maximum suppression --------------------------------------------------------------


def _nms_ref(boxes, scores, thr):
    """Greedy NMS over the full IoU matrix, in (stable) decreasing score order."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    iou = _iou_ref(boxes.astype(np.float64), boxes.astype(np.float64))
    keep, removed = [], set()
    for i in order:
        if i in removed:
            continue
        keep.append(i)
        removed.update(j for j in order if iou[i, j] > thr)
    return keep


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("thr", [0.1, 0.5, 0.8])
def test_nms_matches_brute_force(seed, thr):
    rng = np.random.default_rng(seed)
    boxes = _boxes(rng, 60, size=40.0, dtype=np.float64)
    scores = rng.choice(np.linspace(0, 1, 20), 60)  # many ties, broken by index
    keep = ops.nms(tm.tensor(boxes), tm.tensor(scores), thr)
    assert keep.dtype == tm.int64
    assert keep.tolist() == _nms_ref(boxes, scores, thr)


def test_nms_keeps_a_box_whose_iou_equals_the_threshold():
    boxes = tm.tensor([[0.0, 0.0, 2.0, 1.0], [1.0, 0.0, 3.0, 1.0]])  # IoU 1/3
    scores = tm.tensor([0.9, 0.8])
    assert ops.nms(boxes, scores, 1 / 3).tolist() == [0, 1]
    assert ops.nms(boxes, scores, 0.3).tolist() == [0]


def test_nms_on_no_boxes_and_bad_arguments():
    assert ops.nms(tm.zeros(0, 4), tm.zeros(0), 0.5).tolist() == []
    with pytest.raises(RuntimeError, match="boxes should be a 2d tensor, got 1D"):
        ops.nms(tm.zeros(4), tm.zeros(1), 0.5)
    with pytest.raises(RuntimeError, match="boxes should have 4 elements in dimension 1, got 5"):
        ops.nms(tm.zeros(3, 5), tm.zeros(3), 0.5)
    with pytest.raises(RuntimeError, match="same number of elements in dimension 0, got 3 and 2"):
        ops.nms(tm.zeros(3, 4), tm.zeros(2), 0.5)


@pytest.mark.parametrize("seed", range(3))
def test_batched_nms_suppresses_within_categories_only(seed):
    rng = np.random.default_rng(seed)
    boxes = _boxes(rng, 80, size=30.0)
    scores = rng.uniform(size=80).astype(np.float32)
    idxs = rng.integers(0, 4, 80)
    keep = ops.batched_nms(tm.tensor(boxes), tm.tensor(scores), tm.tensor(idxs), 0.4).tolist()
    expected = []
    for c in range(4):
        members = np.flatnonzero(idxs == c)
        expected += [members[i] for i in _nms_ref(boxes[members], scores[members], 0.4)]
    expected.sort(key=lambda i: -scores[i])
    assert keep == expected
    assert ops.batched_nms(tm.zeros(0, 4), tm.zeros(0), tm.zeros(0, dtype=tm.int64),
                           0.5).tolist() == []


# -- RoIAlign -----------------------------------------------------------------------------


def _bilinear(img, y, x):
    """torchvision's sampling rule: 0 outside [-1, size], clamp into the map otherwise."""
    h, w = img.shape[-2:]
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return np.zeros(img.shape[:-2])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= h - 1:
        y0 = y1 = h - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= w - 1:
        x0 = x1 = w - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * img[..., y0, x0] + (1 - ly) * lx * img[..., y0, x1]
            + ly * (1 - lx) * img[..., y1, x0] + ly * lx * img[..., y1, x1])


def _roi_align_ref(x, rois, out_h, out_w, scale, ratio, aligned):
    out = np.zeros((len(rois), x.shape[1], out_h, out_w))
    off = 0.5 if aligned else 0.0
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        sx, sy = x1 * scale - off, y1 * scale - off
        rw, rh = x2 * scale - off - sx, y2 * scale - off - sy
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bh, bw = rh / out_h, rw / out_w
        gh = ratio if ratio > 0 else math.ceil(rh / out_h)
        gw = ratio if ratio > 0 else math.ceil(rw / out_w)
        count = max(gh * gw, 1)
        for ph in range(out_h):
            for pw in range(out_w):
                acc = np.zeros(x.shape[1])
                for iy in range(max(gh, 0)):
                    yy = sy + ph * bh + (iy + 0.5) * bh / gh
                    for ix in range(max(gw, 0)):
                        xx = sx + pw * bw + (ix + 0.5) * bw / gw
                        acc += _bilinear(x[int(b)], yy, xx)
                out[k, :, ph, pw] = acc / count
    return out


ROIS = np.array([[0, 1.2, 2.3, 7.9, 8.1],      # inside
                 [1, -3.0, 0.5, 30.0, 4.0],    # past the left and right edges
                 [0, 3.0, 3.0, 3.0, 3.0],      # empty: 1x1 when not aligned
                 [1, 10.5, 8.2, 11.7, 9.9],    # touching the bottom-right pixel
                 [0, -9.0, -9.0, -2.5, -4.0]])  # outside entirely


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("ratio", [-1, 2])
@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_roi_align_matches_direct_bilinear_sampling(aligned, ratio, scale):
    x = np.random.default_rng(0).standard_normal((2, 3, 10, 12))
    rois = ROIS * np.array([1, 1 / scale, 1 / scale, 1 / scale, 1 / scale])
    got = ops.roi_align(tm.tensor(x), tm.tensor(rois), (3, 4), scale, ratio, aligned)
    np.testing.assert_allclose(got.numpy(), _roi_align_ref(x, rois, 3, 4, scale, ratio, aligned),
                               rtol=1e-10, atol=1e-12)


def test_roi_align_adaptive_grid_on_large_regions():
    x = np.random.default_rng(1).standard_normal((1, 2, 40, 40))
    rois = np.array([[0, 0.0, 0.0, 39.0, 25.0], [0, 5.5, 2.0, 38.0, 37.0]])
    got = ops.roi_align(tm.tensor(x), tm.tensor(rois), 5, sampling_ratio=0)
    np.testing.assert_allclose(got.numpy(), _roi_align_ref(x, rois, 5, 5, 1.0, 0, False),
                               rtol=1e-10)


def test_roi_align_takes_a_list_of_boxes_per_image():
    x = tm.randn(2, 4, 9, 9)
    per_image = [tm.tensor([[1.0, 1.0, 6.0, 5.0]]), tm.tensor([[0.0, 2.0, 8.0, 8.0],
                                                               [2.0, 2.0, 3.0, 3.0]])]
    rois = tm.tensor([[0, 1.0, 1.0, 6.0, 5.0], [1, 0.0, 2.0, 8.0, 8.0], [1, 2.0, 2.0, 3.0, 3.0]])
    a = ops.roi_align(x, per_image, (2, 2), 1.0, 2, True)
    b = ops.RoIAlign((2, 2), 1.0, 2, aligned=True)(x, rois)
    assert a.shape == (3, 4, 2, 2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert repr(ops.RoIAlign((2, 2), 0.25, 2)) == \
        "RoIAlign(output_size=(2, 2), spatial_scale=0.25, sampling_ratio=2, aligned=False)"


def test_roi_align_gradcheck():
    x = tm.tensor(np.random.default_rng(2).standard_normal((2, 2, 6, 7)), requires_grad=True)
    rois = tm.tensor(ROIS[[0, 1, 3]] * np.array([1, 0.7, 0.7, 0.7, 0.7]))
    assert tm.autograd.gradcheck(lambda t: ops.roi_align(t, rois, (2, 3), 1.0, -1, True), (x,))
    assert tm.autograd.gradcheck(lambda t: ops.roi_align(t, rois, 2, 1.0, 2, False), (x,))


def test_roi_align_errors():
    x = tm.randn(1, 2, 5, 5)
    with pytest.raises(ValueError, match=r"Tensor\[K, 5\]"):
        ops.roi_align(x, tm.zeros(3, 4), 2)
    with pytest.raises(ValueError, match=r"List\[Tensor\[L, 4\]\]"):
        ops.roi_align(x, [tm.zeros(3, 5)], 2)
    with pytest.raises(RuntimeError, match="to have the same type"):
        ops.roi_align(x, tm.zeros(1, 5, dtype=tm.float64), 2)
    assert ops.roi_align(x, tm.zeros(0, 5), 2).shape == (0, 2, 2, 2)


# -- RoIPool ------------------------------------------------------------------------------


def _roi_pool_ref(x, rois, out_h, out_w, scale):
    """torchvision's RoIPool loop: rounded corners, floor/ceil bins, first maximum."""
    out = np.zeros((len(rois), x.shape[1], out_h, out_w))
    arg = np.full(out.shape, -1)
    h, w = x.shape[-2:]
    rnd = lambda v: int(math.copysign(math.floor(abs(v) + 0.5), v))
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        sx, sy, ex, ey = (rnd(v * scale) for v in (x1, y1, x2, y2))
        rh, rw = max(ey - sy + 1, 1), max(ex - sx + 1, 1)
        for ph in range(out_h):
            for pw in range(out_w):
                hs = min(max(math.floor(ph * rh / out_h) + sy, 0), h)
                he = min(max(math.ceil((ph + 1) * rh / out_h) + sy, 0), h)
                ws = min(max(math.floor(pw * rw / out_w) + sx, 0), w)
                we = min(max(math.ceil((pw + 1) * rw / out_w) + sx, 0), w)
                for c in range(x.shape[1]):
                    best, idx = (0.0, -1) if he <= hs or we <= ws else (-np.inf, -1)
                    for yy in range(hs, he):
                        for xx in range(ws, we):
                            if x[int(b), c, yy, xx] > best:
                                best, idx = x[int(b), c, yy, xx], yy * w + xx
                    out[k, c, ph, pw], arg[k, c, ph, pw] = best, idx
    return out, arg


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_roi_pool_matches_the_reference_loop(scale):
    x = np.random.default_rng(5).standard_normal((2, 3, 10, 12))
    rois = ROIS * np.array([1, 1 / scale, 1 / scale, 1 / scale, 1 / scale])
    expected, _ = _roi_pool_ref(x, rois, 3, 4, scale)
    got = ops.roi_pool(tm.tensor(x), tm.tensor(rois), (3, 4), scale)
    np.testing.assert_array_equal(got.numpy(), expected)


def test_roi_pool_routes_the_gradient_to_the_first_maximum():
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 1, 4] = x[0, 0, 2, 1] = 5.0  # a tie: row-major order picks (1, 4)
    xt = tm.tensor(x, requires_grad=True)
    out = ops.roi_pool(xt, [tm.tensor([[0.0, 0.0, 5.0, 5.0]])], 1)
    out.sum().backward()
    expected = np.zeros_like(x)
    expected[0, 0, 1, 4] = 1.0
    np.testing.assert_array_equal(xt.grad.numpy(), expected)
    assert repr(ops.RoIPool((7, 7), 0.0625)) == "RoIPool(output_size=(7, 7), spatial_scale=0.0625)"


def test_roi_pool_gradcheck():
    x = tm.tensor(np.random.default_rng(6).standard_normal((2, 2, 7, 8)), requires_grad=True)
    rois = tm.tensor(ROIS[[0, 1, 3]] * np.array([1, 0.7, 0.7, 0.7, 0.7]))
    assert tm.autograd.gradcheck(lambda t: ops.roi_pool(t, rois, (2, 3), 1.0), (x,))


# -- losses and layers --------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1.0, 1.5), (0.5, 0.0)])
def test_sigmoid_focal_loss_matches_its_formula(reduction, alpha, gamma):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6)) * 3
    t = (rng.uniform(size=(4, 6)) > 0.7).astype(np.float64)
    p = 1 / (1 + np.exp(-x))
    ce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss *= alpha * t + (1 - alpha) * (1 - t)
    expected = {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    got = ops.sigmoid_focal_loss(tm.tensor(x), tm.tensor(t), alpha, gamma, reduction)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)


def test_sigmoid_focal_loss_rejects_unknown_reduction():
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction': 'avg"):
        ops.sigmoid_focal_loss(tm.zeros(2), tm.zeros(2), reduction="avg")


def test_stochastic_depth_drops_whole_rows_and_rescales():
    tm.manual_seed(0)
    x = tm.ones(1000, 3, 2)
    y = ops.stochastic_depth(x, 0.3, "row").numpy()
    per_row = y.reshape(1000, -1)
    assert set(np.unique(per_row).tolist()) <= {0.0, float(np.float32(1 / 0.7))}
    assert (per_row == per_row[:, :1]).all()  # a row is kept or dropped as a whole
    assert abs((per_row[:, 0] == 0).mean() - 0.3) < 0.05
    batch = ops.stochastic_depth(x, 0.5, "batch").numpy()
    assert len(np.unique(batch)) == 1
    assert ops.stochastic_depth(x, 0.3, "row", training=False) is x
    layer = ops.StochasticDepth(0.2, "row").eval()
    assert layer(x) is x and repr(layer) == "StochasticDepth(p=0.2, mode=row)"
    with pytest.raises(ValueError, match="drop probability has to be between 0 and 1"):
        ops.stochastic_depth(x, 1.5, "row")
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row'"):
        ops.stochastic_depth(x, 0.5, "col")


def test_conv_norm_activation_layout():
    block = ops.Conv2dNormActivation(3, 8, kernel_size=5, stride=2, dilation=2)
    assert [type(m).__name__ for m in block] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert block[0].padding == (4, 4) and block[0].bias is None and block.out_channels == 8
    bare = ops.Conv2dNormActivation(3, 8, 3, norm_layer=None, activation_layer=None)
    assert len(bare) == 1 and bare[0].bias is not None
    assert ops.Conv2dNormActivation(3, 8, (3, 5))[0].padding == (1, 2)


def test_squeeze_excitation_and_mlp():
    se = ops.SqueezeExcitation(8, 2)
    x = tm.randn(2, 8, 4, 4)
    with tm.no_grad():
        gate = tm.sigmoid(se.fc2(tm.relu(se.fc1(x.mean((2, 3), keepdim=True)))))
        np.testing.assert_allclose(se(x).numpy(), (x * gate).numpy(), rtol=1e-5, atol=1e-6)
    mlp = ops.MLP(4, [16, 16, 3], activation_layer=nn.GELU, dropout=0.1)
    assert [type(m).__name__ for m in mlp] == ["Linear", "GELU", "Dropout", "Linear", "GELU",
                                                "Dropout", "Linear", "Dropout"]
    assert mlp(tm.randn(5, 4)).shape == (5, 3)
    assert list(ops.Permute([0, 2, 3, 1])(x).shape) == [2, 4, 4, 8]
