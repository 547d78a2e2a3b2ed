"""taimatsu_vision.utils: make_grid, save_image and the drawing helpers."""

from __future__ import annotations

import io as pyio

import numpy as np
import pytest
from PIL import Image

import taimatsu as tm
from taimatsu_vision import utils


def test_make_grid_layout():
    x = tm.arange(5 * 3 * 2 * 4, dtype=tm.float32).reshape(5, 3, 2, 4)
    grid = utils.make_grid(x, nrow=2, padding=1, pad_value=-1.0)
    # 3 rows x 2 columns of (2, 4) images with 1 pixel of padding around each
    assert tuple(grid.shape) == (3, 3 * 3 + 1, 2 * 5 + 1)
    g = grid.numpy()
    np.testing.assert_array_equal(g[:, 1:3, 1:5], x[0].numpy())
    np.testing.assert_array_equal(g[:, 1:3, 6:10], x[1].numpy())
    np.testing.assert_array_equal(g[:, 4:6, 1:5], x[2].numpy())
    np.testing.assert_array_equal(g[:, 7:9, 1:5], x[4].numpy())
    assert (g[:, 7:9, 6:10] == -1).all() and (g[:, 0] == -1).all()


def test_make_grid_gray_single_and_list():
    gray = tm.rand(4, 1, 3, 3)
    grid = utils.make_grid(gray, nrow=4, padding=0)
    assert tuple(grid.shape) == (3, 3, 12)  # grayscale is repeated to three channels
    np.testing.assert_array_equal(grid[0].numpy(), grid[2].numpy())
    single = utils.make_grid(tm.rand(3, 5, 6))
    assert tuple(single.shape) == (3, 5, 6)  # one image comes back without padding
    listed = utils.make_grid([tm.rand(3, 2, 2), tm.rand(3, 2, 2)], padding=0)
    assert tuple(listed.shape) == (3, 2, 4)
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        utils.make_grid(np.zeros((2, 3, 4, 4)))


def test_make_grid_normalize():
    x = tm.tensor([[[[-2.0, 0.0]]], [[[1.0, 2.0]]]])
    grid = utils.make_grid(x, normalize=True, padding=0)
    np.testing.assert_allclose(grid[0].numpy(), [[0.0, 0.5, 0.75, 1.0]])
    each = utils.make_grid(x, normalize=True, scale_each=True, padding=0)
    np.testing.assert_allclose(each[0].numpy(), [[0.0, 1.0, 0.0, 1.0]])
    ranged = utils.make_grid(x, normalize=True, value_range=(0.0, 1.0), padding=0)
    np.testing.assert_allclose(ranged[0].numpy(), [[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(x, normalize=True, value_range=[0, 1])


def test_save_image_rounds_like_torchvision(tmp_path):
    x = tm.tensor([[[0.0, 0.5, 1.0, 1.5]]])
    path = tmp_path / "img.png"
    utils.save_image(x, str(path))
    saved = np.asarray(Image.open(path))
    # x * 255 + 0.5, clamped, truncated; one channel becomes RGB
    assert saved.shape == (1, 4, 3) and saved[0, :, 0].tolist() == [0, 128, 255, 255]
    buf = pyio.BytesIO()
    utils.save_image(tm.rand(4, 3, 5, 5), buf, format="PNG", nrow=2, padding=1)
    assert Image.open(buf).size == (13, 13)


def test_draw_bounding_boxes():
    img = tm.zeros(3, 20, 30, dtype=tm.uint8)
    boxes = tm.tensor([[2, 3, 10, 12], [15, 5, 28, 18]])
    out = utils.draw_bounding_boxes(img, boxes, colors=["red", (0, 255, 0)], width=1)
    assert out.dtype == tm.uint8 and tuple(out.shape) == (3, 20, 30)
    o = out.numpy()
    assert o[:, 3, 5].tolist() == [255, 0, 0]  # top edge of the first box
    assert o[:, 18, 20].tolist() == [0, 255, 0]  # bottom edge of the second box
    assert o[:, 7, 6].tolist() == [0, 0, 0]  # inside stays untouched without fill
    filled = utils.draw_bounding_boxes(img, boxes[:1], colors="blue", fill=True)
    assert filled.numpy()[2, 7, 6] > 0
    labelled = utils.draw_bounding_boxes(tm.zeros(1, 40, 60, dtype=tm.uint8), boxes * 2,
                                         labels=["dog", "cat"])
    assert tuple(labelled.shape) == (3, 40, 60)  # grayscale comes back as RGB
    as_float = utils.draw_bounding_boxes(tm.zeros(3, 20, 30), boxes, colors="white")
    assert as_float.dtype == tm.float32 and as_float.max().item() == 1.0
    assert utils.draw_bounding_boxes(img, tm.zeros(0, 4)) is img


def test_draw_bounding_boxes_errors():
    img = tm.zeros(3, 10, 10, dtype=tm.uint8)
    with pytest.raises(ValueError, match="Boxes need to be in \\(xmin, ymin, xmax, ymax\\)"):
        utils.draw_bounding_boxes(img, tm.tensor([[5, 5, 1, 1]]))
    with pytest.raises(ValueError, match="Pass individual images, not batches"):
        utils.draw_bounding_boxes(img.unsqueeze(0), tm.tensor([[1, 1, 5, 5]]))
    with pytest.raises(ValueError, match="Only grayscale and RGB images are supported"):
        utils.draw_bounding_boxes(tm.zeros(2, 10, 10, dtype=tm.uint8), tm.tensor([[1, 1, 5, 5]]))
    with pytest.raises(ValueError, match="Number of boxes \\(1\\) and labels \\(2\\) mismatch"):
        utils.draw_bounding_boxes(img, tm.tensor([[1, 1, 5, 5]]), labels=["a", "b"])
    with pytest.raises(ValueError, match="Number of colors must be equal or larger"):
        utils.draw_bounding_boxes(img, tm.tensor([[1, 1, 5, 5]] * 2), colors=["red"])
    with pytest.raises(TypeError, match="Tensor expected"):
        utils.draw_bounding_boxes(np.zeros((3, 4, 4)), tm.tensor([[1, 1, 2, 2]]))


def test_draw_segmentation_masks_blends():
    img = tm.full((3, 4, 4), 100, dtype=tm.uint8)
    mask = tm.zeros(4, 4, dtype=tm.bool)
    mask[1:3, 1:3] = True
    out = utils.draw_segmentation_masks(img, mask, alpha=0.5, colors="red")
    o = out.numpy()
    assert o[:, 1, 1].tolist() == [177, 50, 50]  # 100 * 0.5 + (255, 0, 0) * 0.5, truncated
    assert o[:, 0, 0].tolist() == [100, 100, 100]
    two = utils.draw_segmentation_masks(img, tm.stack([mask, ~mask]), alpha=1.0)
    assert tuple(two.shape) == (3, 4, 4) and not np.array_equal(two.numpy()[:, 0, 0],
                                                                two.numpy()[:, 1, 1])
    with pytest.raises(ValueError, match="The masks must be of dtype bool"):
        utils.draw_segmentation_masks(img, mask.to(tm.uint8))
    with pytest.raises(ValueError, match="must have the same height and width"):
        utils.draw_segmentation_masks(img, tm.zeros(5, 4, dtype=tm.bool))


def test_draw_keypoints():
    img = tm.zeros(3, 20, 20, dtype=tm.uint8)
    kpts = tm.tensor([[[3.0, 3.0], [15.0, 15.0]]])
    out = utils.draw_keypoints(img, kpts, connectivity=[(0, 1)], colors="white", radius=1,
                               width=1)
    o = out.numpy()
    assert o[:, 3, 3].tolist() == [255, 255, 255] and o[:, 9, 9].tolist() == [255, 255, 255]
    hidden = utils.draw_keypoints(img, kpts, colors="white", visibility=tm.tensor([[True,
                                                                                    False]]))
    assert hidden.numpy()[:, 15, 15].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="keypoints must be of shape"):
        utils.draw_keypoints(img, tm.zeros(2, 2))
