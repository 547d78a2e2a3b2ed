"""torchvision.ops on taimatsu: box utilities, NMS, RoIAlign, focal loss, and the layers
the model zoo is built from."""

from .boxes import (
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    generalized_box_iou,
    nms,
    remove_small_boxes,
)
from .focal_loss import sigmoid_focal_loss
from .misc import MLP, Conv2dNormActivation, Permute, SqueezeExcitation
from .roi_align import RoIAlign, roi_align
from .roi_pool import RoIPool, roi_pool
from .stochastic_depth import StochasticDepth, stochastic_depth

__all__ = ["nms", "batched_nms", "remove_small_boxes", "clip_boxes_to_image", "box_convert",
           "box_area", "box_iou", "generalized_box_iou", "roi_align", "RoIAlign",
           "roi_pool", "RoIPool",
           "sigmoid_focal_loss", "stochastic_depth", "StochasticDepth",
           "Conv2dNormActivation", "SqueezeExcitation", "MLP", "Permute"]
