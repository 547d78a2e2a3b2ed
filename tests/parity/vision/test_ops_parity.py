"""taimatsu_vision.ops against torchvision's definitions written with torch ops in the test
(values and gradients through torch's autograd)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import taimatsu as tm
from taimatsu_vision import ops


def _boxes(rng, n):
    xy = rng.uniform(0, 30, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(1, 15, (n, 2))], 1).astype(np.float32)


def _torch_iou(torch, a, b):
    area = lambda t: (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    lt = torch.max(a[:, None, :2], b[:, :2])
    rb = torch.min(a[:, None, 2:], b[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area(a)[:, None] + area(b) - inter
    hull_wh = (torch.max(a[:, None, 2:], b[:, 2:]) - torch.min(a[:, None, :2], b[:, :2]))
    hull = hull_wh.clamp(min=0).prod(-1)
    return inter / union, inter / union - (hull - union) / hull


@pytest.mark.parametrize("which", ["box_iou", "generalized_box_iou"])
def test_box_iou_values_and_gradients_match_torch(torch, which):
    rng = np.random.default_rng(0)
    a, b = _boxes(rng, 6), _boxes(rng, 4)
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    iou, giou = _torch_iou(torch, ta, tb)
    expected = iou if which == "box_iou" else giou
    oa, ob = (tm.tensor(v, requires_grad=True) for v in (a, b))
    got = getattr(ops, which)(oa, ob)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    g = rng.standard_normal(expected.shape).astype(np.float32)
    expected.backward(torch.from_numpy(g))
    got.backward(tm.from_numpy(g))
    np.testing.assert_allclose(oa.grad.numpy(), ta.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ob.grad.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_sigmoid_focal_loss_matches_torch(torch, reduction):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((8, 5)) * 2).astype(np.float32)
    t = (rng.uniform(size=(8, 5)) > 0.6).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    p = torch.sigmoid(tx)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.from_numpy(t),
                                                              reduction="none")
    tt = torch.from_numpy(t)
    p_t = p * tt + (1 - p) * (1 - tt)
    loss = ce * (1 - p_t) ** 2 * (0.25 * tt + 0.75 * (1 - tt))
    loss = {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    ox = tm.tensor(x, requires_grad=True)
    got = ops.sigmoid_focal_loss(ox, tm.tensor(t), reduction=reduction)
    np.testing.assert_allclose(got.detach().numpy(), loss.detach().numpy(), rtol=1e-5,
                               atol=1e-7)
    loss.sum().backward()
    got.sum().backward()
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)


def _torch_roi_align(torch, x, rois, out_h, out_w, scale, ratio, aligned):
    """RoIAlign written sample by sample with torch indexing (autograd gives backward)."""
    h, w = x.shape[-2:]
    outs = []
    off = 0.5 if aligned else 0.0
    for b, x1, y1, x2, y2 in rois.tolist():
        sx, sy = x1 * scale - off, y1 * scale - off
        rw, rh = x2 * scale - off - sx, y2 * scale - off - sy
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        gh = ratio if ratio > 0 else math.ceil(rh / out_h)
        gw = ratio if ratio > 0 else math.ceil(rw / out_w)
        img = x[int(b)]
        bins = []
        for ph in range(out_h):
            for pw in range(out_w):
                acc = torch.zeros(x.shape[1], dtype=x.dtype)
                for iy in range(gh):
                    yy = sy + ph * rh / out_h + (iy + 0.5) * rh / out_h / gh
                    for ix in range(gw):
                        xx = sx + pw * rw / out_w + (ix + 0.5) * rw / out_w / gw
                        if yy < -1 or yy > h or xx < -1 or xx > w:
                            continue
                        yy, xx = max(yy, 0.0), max(xx, 0.0)
                        y0, x0 = min(int(yy), h - 1), min(int(xx), w - 1)
                        y1_, x1_ = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
                        ly = 0.0 if y0 == h - 1 else yy - y0
                        lx = 0.0 if x0 == w - 1 else xx - x0
                        acc = acc + ((1 - ly) * (1 - lx) * img[:, y0, x0]
                                     + (1 - ly) * lx * img[:, y0, x1_]
                                     + ly * (1 - lx) * img[:, y1_, x0] + ly * lx * img[:, y1_, x1_])
                bins.append(acc / max(gh * gw, 1))
        outs.append(torch.stack(bins, -1).reshape(x.shape[1], out_h, out_w))
    return torch.stack(outs)


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("ratio", [-1, 2])
def test_roi_align_values_and_input_gradient_match_torch(torch, aligned, ratio):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 9, 11)).astype(np.float32)
    rois = np.array([[0, 1.2, 2.3, 7.9, 8.1], [1, -2.0, 0.5, 14.0, 4.0],
                     [1, 6.5, 6.2, 10.7, 8.9], [0, 4.0, 4.0, 4.0, 4.0]], dtype=np.float32)
    tx = torch.tensor(x, requires_grad=True)
    expected = _torch_roi_align(torch, tx, rois, 3, 2, 0.9, ratio, aligned)
    ox = tm.tensor(x, requires_grad=True)
    got = ops.roi_align(ox, tm.tensor(rois), (3, 2), 0.9, ratio, aligned)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    g = rng.standard_normal(expected.shape).astype(np.float32)
    expected.backward(torch.from_numpy(g))
    got.backward(tm.from_numpy(g))
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
