"""Op-test descriptions for F.interpolate, grid_sample, affine_grid, pixel/channel
shuffle and unfold/fold (shared by core and parity tests)."""

from taimatsu.nn import functional as F
from taimatsu.testing import Arg, OpCase


def case(name, inputs, gradgrad=True, **kwargs):
    base = name.split("[")[0]
    return OpCase(name, op=getattr(F, base), inputs=inputs, kwargs=kwargs,
                  torch_op=f"nn.functional.{base}", gradgrad=gradgrad)


def _grid(rng, shape, dtype):
    """Sample points reaching a little past the border (padding modes matter there)."""
    return rng.uniform(-1.2, 1.2, shape).astype(dtype)


G2 = Arg((2, 3, 2, 2), fn=_grid)

CASES = [
    case("interpolate[nearest]", [(2, 3, 5)], scale_factor=2.5),
    case("interpolate[nearest2d]", [(2, 3, 4, 5)], size=(7, 3)),
    case("interpolate[nearest_exact]", [(2, 2, 4, 5)], size=(6, 7), mode="nearest-exact"),
    case("interpolate[nearest3d]", [(1, 2, 3, 4, 2)], scale_factor=(2, 0.5, 1.5)),
    case("interpolate[linear]", [(2, 3, 5)], size=8, mode="linear"),
    case("interpolate[linear_corners]", [(2, 3, 6)], size=4, mode="linear",
         align_corners=True),
    case("interpolate[bilinear]", [(2, 2, 4, 5)], scale_factor=1.7, mode="bilinear"),
    case("interpolate[bilinear_corners]", [(2, 2, 4, 5)], size=(7, 3), mode="bilinear",
         align_corners=True),
    case("interpolate[bilinear_recompute]", [(1, 2, 5, 4)], scale_factor=(1.3, 2.6),
         mode="bilinear", recompute_scale_factor=True),
    case("interpolate[bicubic]", [(2, 2, 4, 5)], size=(6, 7), mode="bicubic"),
    case("interpolate[bicubic_corners]", [(1, 2, 5, 4)], scale_factor=0.6, mode="bicubic",
         align_corners=True),
    case("interpolate[trilinear]", [(1, 2, 3, 4, 3)], size=(4, 3, 5), mode="trilinear"),
    case("interpolate[area]", [(2, 2, 7, 6)], size=(3, 4), mode="area"),
    case("interpolate[antialias_bilinear]", [(2, 2, 9, 8)], size=(4, 3), mode="bilinear",
         antialias=True),
    case("interpolate[antialias_bicubic]", [(1, 2, 8, 9)], size=(3, 5), mode="bicubic",
         antialias=True),
    case("grid_sample", [(2, 2, 4, 3), G2], align_corners=False),
    case("grid_sample[border]", [(2, 2, 4, 3), G2], padding_mode="border",
         align_corners=True),
    case("grid_sample[reflection]", [(2, 2, 4, 3), G2], padding_mode="reflection",
         align_corners=False),
    case("grid_sample[reflection_corners]", [(2, 2, 4, 3), G2], padding_mode="reflection",
         align_corners=True),
    case("grid_sample[nearest]", [(2, 2, 4, 3), G2], mode="nearest", align_corners=False),
    case("grid_sample[bicubic]", [(2, 2, 4, 3), G2], mode="bicubic", align_corners=False),
    case("grid_sample[bicubic_border]", [(2, 2, 4, 3), G2], mode="bicubic",
         padding_mode="border", align_corners=True, gradgrad=False),
    case("grid_sample[bicubic_reflection]", [(2, 2, 4, 3), G2], mode="bicubic",
         padding_mode="reflection", align_corners=False, gradgrad=False),
    case("grid_sample[3d]", [(1, 2, 3, 3, 2), Arg((1, 2, 2, 2, 3), fn=_grid)],
         align_corners=False),
    case("grid_sample[3d_border]", [(1, 2, 3, 4, 3), Arg((1, 2, 3, 2, 3), fn=_grid)],
         padding_mode="border", align_corners=True, gradgrad=False),
    case("affine_grid", [(2, 2, 3)], size=(2, 3, 4, 5), align_corners=False),
    case("affine_grid[corners]", [(2, 2, 3)], size=(2, 3, 4, 5), align_corners=True),
    case("affine_grid[3d]", [(2, 3, 4)], size=(2, 1, 3, 4, 2), align_corners=False),
    case("pixel_shuffle", [(2, 8, 3, 2)], upscale_factor=2),
    case("pixel_shuffle[batch_dims]", [(2, 2, 9, 2, 3)], upscale_factor=3),
    case("pixel_unshuffle", [(2, 2, 4, 6)], downscale_factor=2),
    case("channel_shuffle", [(2, 6, 3, 2)], groups=3),
    case("unfold", [(2, 3, 5, 6)], kernel_size=2),
    case("unfold[strided]", [(2, 2, 7, 6)], kernel_size=(3, 2), dilation=(1, 2), padding=1,
         stride=(2, 1)),
    case("unfold[unbatched]", [(2, 4, 4)], kernel_size=3, padding=1),
    case("fold", [(1, 12, 20)], output_size=(5, 6), kernel_size=2),
    case("fold[strided]", [(1, 12, 24)], output_size=(7, 6), kernel_size=(3, 2),
         dilation=(1, 2), padding=1, stride=(2, 1)),
]
