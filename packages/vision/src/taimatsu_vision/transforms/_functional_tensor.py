"""Image operations on tensors of shape (..., C, H, W), written with taimatsu ops.

The numerics follow torchvision's tensor backend: integer images are processed in
float32 and rounded back, geometric transforms sample a grid built in pixel-centre
coordinates through `grid_sample`, and colour ops blend with a degenerate image.
"""

from __future__ import annotations

import numpy as np

import taimatsu as tm
import taimatsu.nn.functional as F
from taimatsu import Tensor

_INT_DTYPES = (tm.uint8, tm.int8, tm.int16, tm.int32, tm.int64)
_MAX_VALUE = {tm.uint8: 255, tm.int8: 127, tm.int16: 32767, tm.int32: 2**31 - 1,
              tm.int64: 2**63 - 1, tm.bool: 1}


def _is_tensor_image(img) -> bool:
    return isinstance(img, Tensor) and img.ndim >= 2


def _assert_image_tensor(img) -> None:
    if not _is_tensor_image(img):
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img: Tensor) -> list[int]:
    _assert_image_tensor(img)
    channels = 1 if img.ndim == 2 else img.shape[-3]
    return [channels, img.shape[-2], img.shape[-1]]


def _assert_channels(img: Tensor, permitted) -> None:
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {list(permitted)}, "
                        f"but found {c}")


def _max_value(dtype) -> float:
    if dtype.is_floating_point:
        return 1.0
    return _MAX_VALUE[dtype]


def _bound(img: Tensor) -> float:
    return 1.0 if img.is_floating_point() else float(_max_value(img.dtype))


# -- batching and dtype round trips --------------------------------------------------------------

def _to_batch(img: Tensor):
    """(N, C, H, W) view of an image or a batch of any leading shape, and how to undo it."""
    shape = tuple(img.shape)
    if img.ndim == 2:
        batch = img.reshape(1, 1, *shape)
    elif img.ndim == 3:
        batch = img.unsqueeze(0)
    else:
        batch = img.reshape(-1, *shape[-3:])

    def restore(out: Tensor) -> Tensor:
        return out.reshape(*shape[:-2], *out.shape[-2:])
    return batch, restore


def _cast_in(img: Tensor, floats=(tm.float32, tm.float64)):
    """Float copy for arithmetic that integer images cannot do, and the dtype to return."""
    if img.dtype in floats:
        return img, img.dtype
    return img.to(tm.float32), img.dtype


def _cast_out(img: Tensor, dtype) -> Tensor:
    if img.dtype == dtype:
        return img
    if dtype in _INT_DTYPES:
        img = tm.round(img)
    return img.to(dtype)


def _blend(img1: Tensor, img2: Tensor, ratio: float) -> Tensor:
    ratio = float(ratio)
    bound = _bound(img1)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


# -- conversions ---------------------------------------------------------------------------------

def convert_image_dtype(image: Tensor, dtype=tm.float32) -> Tensor:
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == tm.float32 and dtype in (tm.int32, tm.int64)) or \
                (image.dtype == tm.float64 and dtype == tm.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed "
                               "safely.")
        # eps keeps 1.0 below max + 1, so the truncating cast lands on max, not max + 1
        eps = 1e-3
        return image.mul(float(_max_value(dtype)) + 1.0 - eps).to(dtype)
    input_max = float(_max_value(image.dtype))
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return tm.div(image, factor, rounding_mode="floor").to(dtype)
    factor = int((output_max + 1) // (input_max + 1))
    return image.to(dtype) * factor


def rgb_to_grayscale(img: Tensor, num_output_channels: int = 1) -> Tensor:
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.ndim}")
    _assert_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        r, g, b = img.unbind(dim=-3)
        # ITU-R 601-2 luma, as PIL's convert("L"); integer images truncate like torchvision
        gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)
    else:
        gray = img.clone()
    if num_output_channels == 3:
        return gray.expand(img.shape)
    return gray


# -- colour --------------------------------------------------------------------------------------

def adjust_brightness(img: Tensor, brightness_factor: float) -> Tensor:
    _assert_channels(img, [1, 3])
    return _blend(img, tm.zeros_like(img), brightness_factor)


def adjust_contrast(img: Tensor, contrast_factor: float) -> Tensor:
    _assert_channels(img, [3, 1])
    c = get_dimensions(img)[0]
    dtype = img.dtype if img.is_floating_point() else tm.float32
    gray = rgb_to_grayscale(img) if c == 3 else img
    mean = tm.mean(gray.to(dtype), dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img: Tensor, saturation_factor: float) -> Tensor:
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:  # a grayscale image has no saturation to change
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb2hsv(img: Tensor) -> Tensor:
    r, g, b = img.unbind(dim=-3)
    maxc = img.max(dim=-3).values
    minc = img.min(dim=-3).values
    # where max == min the hue is undefined: divide by one instead and let it come out 0
    eqc = maxc == minc
    cr = maxc - minc
    ones = tm.ones_like(maxc)
    s = cr / tm.where(eqc, ones, maxc)
    cr_divisor = tm.where(eqc, ones, cr)
    rc = (maxc - r) / cr_divisor
    gc = (maxc - g) / cr_divisor
    bc = (maxc - b) / cr_divisor
    hr = (maxc == r).to(img.dtype) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)).to(img.dtype) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)).to(img.dtype) * (4.0 + gc - rc)
    h = tm.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return tm.stack((h, s, maxc), dim=-3)


def _hsv2rgb(img: Tensor) -> Tensor:
    h, s, v = img.unbind(dim=-3)
    i = tm.floor(h * 6.0)
    f = h * 6.0 - i
    sector = i.to(tm.int32) % 6
    p = (v * (1.0 - s)).clamp(0.0, 1.0)
    q = (v * (1.0 - s * f)).clamp(0.0, 1.0)
    t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0)
    # (r, g, b) for each of the six hue sectors
    table = ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))
    out = []
    for ch in range(3):
        value = tm.zeros_like(v)
        for k in range(6):
            value = tm.where(sector == k, table[k][ch], value)
        out.append(value)
    return tm.stack(out, dim=-3)


def adjust_hue(img: Tensor, hue_factor: float) -> Tensor:
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    orig_dtype = img.dtype
    img = convert_image_dtype(img, tm.float32)
    hsv = _rgb2hsv(img)
    h, s, v = hsv.unbind(dim=-3)
    h = tm.remainder(h + hue_factor, 1.0)
    rgb = _hsv2rgb(tm.stack((h, s, v), dim=-3))
    return convert_image_dtype(rgb, orig_dtype)


def adjust_gamma(img: Tensor, gamma: float, gain: float = 1) -> Tensor:
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be a Tensor.")
    _assert_channels(img, [1, 3])
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    result = img if img.is_floating_point() else convert_image_dtype(img, tm.float32)
    result = (gain * result ** gamma).clamp(0, 1)
    return convert_image_dtype(result, img.dtype)


def invert(img: Tensor) -> Tensor:
    _assert_channels(img, [1, 3])
    if img.is_floating_point():
        return 1.0 - img
    return _max_value(img.dtype) - img


def _assert_uint8(img: Tensor) -> None:
    if img.dtype != tm.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")


def posterize(img: Tensor, bits: int) -> Tensor:
    _assert_channels(img, [1, 3])
    _assert_uint8(img)
    mask = -int(2 ** (8 - bits))  # keeps the `bits` high bits
    return img & mask


def solarize(img: Tensor, threshold: float) -> Tensor:
    _assert_channels(img, [1, 3])
    if threshold > _bound(img):
        raise TypeError("Threshold should be less than bound of img.")
    return tm.where(img >= threshold, invert(img), img)


def _blurred_degenerate_image(img: Tensor) -> Tensor:
    """PIL's SMOOTH filter (3x3, centre 5, others 1, /13) inside a one-pixel border."""
    batch, restore = _to_batch(img)
    work, dtype = _cast_in(batch)
    kernel = tm.ones((3, 3), dtype=work.dtype, device=work.device)
    kernel[1, 1] = 5.0
    kernel = (kernel / kernel.sum()).expand(work.shape[-3], 1, 3, 3)
    smooth = F.conv2d(work, kernel, groups=work.shape[-3])
    smooth = _cast_out(smooth, dtype)
    out = batch.clone()
    out[..., 1:-1, 1:-1] = smooth
    return restore(out)


def adjust_sharpness(img: Tensor, sharpness_factor: float) -> Tensor:
    _assert_channels(img, [1, 3])
    if img.shape[-1] <= 2 or img.shape[-2] <= 2:
        return img
    return _blend(img, _blurred_degenerate_image(img), sharpness_factor)


def autocontrast(img: Tensor) -> Tensor:
    _assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.ndim}")
    _assert_channels(img, [1, 3])
    bound = _bound(img)
    dtype = img.dtype if img.is_floating_point() else tm.float32
    minimum = img.amin(dim=(-2, -1), keepdim=True).to(dtype)
    maximum = img.amax(dim=(-2, -1), keepdim=True).to(dtype)
    flat = maximum == minimum  # a constant channel is left as it is
    scale = bound / tm.where(flat, tm.ones_like(maximum), maximum - minimum)
    minimum = tm.where(flat, tm.zeros_like(minimum), minimum)
    scale = tm.where(flat, tm.ones_like(scale), scale)
    return ((img - minimum) * scale).clamp(0, bound).to(img.dtype)


def equalize(img: Tensor) -> Tensor:
    _assert_image_tensor(img)
    if not 3 <= img.ndim <= 4:
        raise TypeError(f"Input image tensor should have 3 or 4 dimensions, but found "
                        f"{img.ndim}")
    _assert_uint8(img)
    _assert_channels(img, [1, 3])
    arr = img.detach().cpu().numpy()
    planes = arr.reshape(-1, arr.shape[-2] * arr.shape[-1]).astype(np.int64)
    out = _equalize_planes(planes).reshape(arr.shape)
    return tm.from_numpy(out).to(img.device)


def _equalize_planes(planes: np.ndarray) -> np.ndarray:
    """PIL's histogram equalization of each row of (R, H*W) 8-bit values, vectorized."""
    rows = planes.shape[0]
    hist = np.bincount((planes + 256 * np.arange(rows)[:, None]).ravel(),
                       minlength=256 * rows).reshape(rows, 256)
    last = 255 - np.argmax(hist[:, ::-1] != 0, axis=1)  # the highest occupied level
    step = (hist.sum(1) - hist[np.arange(rows), last]) // 255
    safe = np.maximum(step, 1)[:, None]
    lut = (np.cumsum(hist, axis=1) + step[:, None] // 2) // safe
    lut = np.concatenate([np.zeros((rows, 1), np.int64), lut[:, :-1]], axis=1).clip(0, 255)
    lut = np.where(step[:, None] == 0, np.arange(256), lut)  # one level only: unchanged
    return np.take_along_axis(lut, planes, axis=1).astype(np.uint8)


# -- geometry ------------------------------------------------------------------------------------

def hflip(img: Tensor) -> Tensor:
    _assert_image_tensor(img)
    return img.flip(-1)


def vflip(img: Tensor) -> Tensor:
    _assert_image_tensor(img)
    return img.flip(-2)


def crop(img: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    _assert_image_tensor(img)
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        # the part outside the image reads as zeros
        padding_ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                        max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        inside = img[..., max(top, 0):bottom, max(left, 0):right]
        return pad(inside, padding_ltrb, fill=0)
    return img[..., top:bottom, left:right]


def _parse_padding(padding) -> list[int]:
    """[left, right, top, bottom] from torchvision's 1-, 2- or 4-element padding."""
    if isinstance(padding, int):
        return [padding] * 4
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[0], padding[1], padding[1]]
    left, top, right, bottom = padding
    return [left, right, top, bottom]


def _symmetric_index(size: int, before: int, after: int) -> Tensor:
    """Source indices for symmetric padding (the edge pixel is repeated, unlike reflect)."""
    idx = np.arange(-before, size + after)
    period = 2 * size
    idx = np.mod(idx, period)
    idx = np.where(idx >= size, period - 1 - idx, idx)
    return tm.from_numpy(idx.astype(np.int64))


def pad(img: Tensor, padding, fill=0, padding_mode: str = "constant") -> Tensor:
    _assert_image_tensor(img)
    if fill is None:
        fill = 0
    if not isinstance(padding, (int, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    p = [int(v) for v in _parse_padding(padding)]
    if padding_mode == "symmetric":
        # negative padding crops first, then the rest is mirrored
        crop_l, crop_r, crop_t, crop_b = (-min(v, 0) for v in p)
        h, w = img.shape[-2:]
        img = img[..., crop_t:h - crop_b, crop_l:w - crop_r]
        h, w = img.shape[-2:]
        rows = _symmetric_index(h, max(p[2], 0), max(p[3], 0)).to(img.device)
        cols = _symmetric_index(w, max(p[0], 0), max(p[1], 0)).to(img.device)
        return img.index_select(-2, rows).index_select(-1, cols)
    batch, restore = _to_batch(img)
    if padding_mode == "constant":
        out = F.pad(batch, p, mode="constant", value=float(fill))
        return restore(out)
    mode = "replicate" if padding_mode == "edge" else "reflect"
    work, dtype = _cast_in(batch)
    return restore(_cast_out(F.pad(work, p, mode=mode), dtype))


_TENSOR_RESIZE_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic")


def resize(img: Tensor, size: list[int], interpolation: str = "bilinear",
           antialias: bool | None = True) -> Tensor:
    _assert_image_tensor(img)
    if interpolation not in _TENSOR_RESIZE_MODES:
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor "
                         "input")
    if antialias is None:
        antialias = False
    if interpolation not in ("bilinear", "bicubic"):
        antialias = False
    batch, restore = _to_batch(img)
    work, dtype = _cast_in(batch)
    align_corners = False if interpolation in ("bilinear", "bicubic") else None
    out = F.interpolate(work, size=list(size), mode=interpolation, align_corners=align_corners,
                        antialias=antialias)
    if interpolation == "bicubic" and dtype == tm.uint8:
        out = out.clamp(0, 255)  # cubic overshoot would wrap around in uint8
    return restore(_cast_out(out, dtype))


def _base_grid(ow: int, oh: int) -> np.ndarray:
    """(oh*ow, 3) homogeneous output pixel centres, relative to the image centre."""
    x = np.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow, dtype=np.float32)
    y = np.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh, dtype=np.float32)
    grid = np.ones((oh, ow, 3), dtype=np.float32)
    grid[..., 0] = x[None, :]
    grid[..., 1] = y[:, None]
    return grid.reshape(oh * ow, 3)


def _affine_grid(matrix, w: int, h: int, ow: int, oh: int) -> np.ndarray:
    """grid_sample coordinates of the inverse affine `matrix` (in centred pixel units)."""
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    rescaled = theta.T / np.array([0.5 * w, 0.5 * h], dtype=np.float32)
    return (_base_grid(ow, oh) @ rescaled).reshape(1, oh, ow, 2)


def _perspective_grid(coeffs, ow: int, oh: int) -> np.ndarray:
    """grid_sample coordinates of the homography `coeffs`, which works in absolute pixel
    coordinates (so the base grid is not centred here, unlike the affine one)."""
    c = [float(v) for v in coeffs]
    theta1 = np.array([[c[0], c[1], c[2]], [c[3], c[4], c[5]]], dtype=np.float32)
    theta2 = np.array([[c[6], c[7], 1.0], [c[6], c[7], 1.0]], dtype=np.float32)
    base = _base_grid(ow, oh)
    base[:, 0] += np.float32(0.5 * ow)
    base[:, 1] += np.float32(0.5 * oh)
    grid1 = base @ (theta1.T / np.array([0.5 * ow, 0.5 * oh], dtype=np.float32))
    grid2 = base @ theta2.T
    return (grid1 / grid2 - 1.0).reshape(1, oh, ow, 2)


def _check_grid_inputs(img: Tensor, interpolation: str, fill) -> None:
    _assert_image_tensor(img)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor "
                         "input")
    if isinstance(fill, (tuple, list)):
        channels = get_dimensions(img)[0]
        if len(fill) > 1 and len(fill) != channels:
            raise ValueError("The number of elements in 'fill' cannot broadcast to match the "
                             f"number of channels of the image ({len(fill)} != {channels})")


def _apply_grid_transform(img: Tensor, grid: np.ndarray, mode: str, fill) -> Tensor:
    batch, restore = _to_batch(img)
    work, dtype = _cast_in(batch)
    n = work.shape[0]
    grid_t = tm.from_numpy(np.ascontiguousarray(grid)).to(work.device, work.dtype)
    if n > 1:
        grid_t = grid_t.expand(n, *grid_t.shape[1:])
    if fill is not None:
        # an extra all-ones channel tells, after sampling, which pixels came from outside
        work = tm.cat([work, tm.ones_like(work[:, :1])], dim=1)
    out = F.grid_sample(work, grid_t, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask = out[:, -1:].expand_as(out[:, :-1])
        out = out[:, :-1]
        values = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = tm.tensor(values, dtype=out.dtype, device=out.device)
        fill_img = fill_img.view(1, len(values), 1, 1).expand_as(out)
        if mode == "nearest":
            out = tm.where(mask < 0.5, fill_img, out)
        else:
            out = out * mask + (1.0 - mask) * fill_img
    return restore(_cast_out(out, dtype))


def affine(img: Tensor, matrix: list[float], interpolation: str = "nearest",
           fill=None) -> Tensor:
    _check_grid_inputs(img, interpolation, fill)
    h, w = img.shape[-2:]
    return _apply_grid_transform(img, _affine_grid(matrix, w, h, w, h), interpolation, fill)


def _compute_affine_output_size(matrix: list[float], w: int, h: int) -> tuple[int, int]:
    """Size of the box holding the rotated image corners (torchvision's rounding)."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    new_pts = pts @ theta.T
    lo, hi = new_pts.min(axis=0), new_pts.max(axis=0)
    # truncate to 1e-4 first so that float noise does not add a whole pixel
    tol = np.float32(1e-4)
    cmax = np.ceil(np.trunc(hi / tol) * tol)
    cmin = np.floor(np.trunc(lo / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def rotate(img: Tensor, matrix: list[float], interpolation: str = "nearest",
           expand: bool = False, fill=None) -> Tensor:
    _check_grid_inputs(img, interpolation, fill)
    h, w = img.shape[-2:]
    ow, oh = _compute_affine_output_size(matrix, w, h) if expand else (w, h)
    return _apply_grid_transform(img, _affine_grid(matrix, w, h, ow, oh), interpolation, fill)


def perspective(img: Tensor, perspective_coeffs: list[float], interpolation: str = "bilinear",
                fill=None) -> Tensor:
    if not isinstance(img, Tensor):
        raise TypeError(f"Input img should be Tensor. Got {type(img)}")
    _check_grid_inputs(img, interpolation, fill)
    h, w = img.shape[-2:]
    grid = _perspective_grid(perspective_coeffs, w, h)
    return _apply_grid_transform(img, grid, interpolation, fill)


def _gaussian_kernel1d(kernel_size: int, sigma: float) -> np.ndarray:
    half = (kernel_size - 1) * 0.5
    x = np.linspace(-half, half, kernel_size)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img: Tensor, kernel_size: list[int], sigma: list[float]) -> Tensor:
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor. Got {type(img)}")
    _assert_image_tensor(img)
    batch, restore = _to_batch(img)
    work, dtype = _cast_in(batch)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0])
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1])
    channels = work.shape[1]
    kernel = tm.from_numpy(np.outer(ky, kx)).to(work.device, work.dtype)
    kernel = kernel.expand(channels, 1, len(ky), len(kx))
    padding = [kernel_size[0] // 2, kernel_size[0] // 2, kernel_size[1] // 2,
               kernel_size[1] // 2]
    out = F.conv2d(F.pad(work, padding, mode="reflect"), kernel, groups=channels)
    return restore(_cast_out(out, dtype))


def normalize(tensor: Tensor, mean, std, inplace: bool = False) -> Tensor:
    _assert_image_tensor(tensor)
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")
    dtype = tensor.dtype
    mean, std = _channel_constant(mean, dtype), _channel_constant(std, dtype)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to "
                         "division by zero.")
    mean_t = tm.from_numpy(mean).to(tensor.device)
    std_t = tm.from_numpy(std).to(tensor.device)
    if inplace:
        return tensor.sub_(mean_t).div_(std_t)
    return (tensor - mean_t) / std_t  # same values as clone().sub_().div_(), one copy fewer


def _channel_constant(values, dtype) -> np.ndarray:
    """Per-channel constants as a (C, 1, 1) array (a tensor or sequence of C values)."""
    if isinstance(values, Tensor):
        arr = values.detach().cpu().numpy().astype(dtype.np)
    else:
        arr = np.asarray(values, dtype=dtype.np)
    return arr.reshape(-1, 1, 1) if arr.ndim == 1 else arr


def erase(img: Tensor, i: int, j: int, h: int, w: int, v, inplace: bool = False) -> Tensor:
    _assert_image_tensor(img)
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img
