"""Deterministic geometric transforms: each one builds its matrices and warps once.

These are the building blocks for a single transform with known parameters. To chain
several, sample them with a `augment.Pipeline`, which fuses the whole chain into one warp.
Every function takes a float batch of shape (N, C, H, W) and, for each parameter, a number
(the same for every image) or a tensor of shape (N,) (one value per image).
"""

from __future__ import annotations

import torch

from . import geometry
from .geometry import Size

__all__ = ["flip", "rotate", "zoom", "translate", "perspective", "crop_pad", "crop_pad_offsets"]

Param = float | torch.Tensor


def per_image(value: Param, n: int, device: torch.device | None = None) -> torch.Tensor:
    """A parameter as a float32 tensor of shape (n,).

    Args:
        value: A number, a 0-d tensor, or a tensor of shape (n,).
        n: The batch size.
        device: Where the result lives.

    Returns:
        A tensor of shape (n,).
    """
    t = torch.as_tensor(value, dtype=torch.float32, device=device)
    if t.ndim == 0:
        return t.expand(n).clone()
    if t.shape != (n,):
        raise ValueError(f"expected a number or a tensor of shape ({n},), got {tuple(t.shape)}")
    return t


def flip(
    images: torch.Tensor, horizontal: Param = 1.0, vertical: Param = 0.0, **warp_kwargs
) -> torch.Tensor:
    """Mirror images left-right and/or top-bottom.

    Args:
        images: Float tensor of shape (N, C, H, W).
        horizontal: 1 (or True) to mirror left-right, per batch or per image.
        vertical: 1 (or True) to mirror top-bottom, per batch or per image.
        **warp_kwargs: ``mode`` and ``padding_mode``, passed to `augment.warp`.

    Returns:
        The flipped batch, same shape.

    Example:
        >>> x = torch.arange(4.0).reshape(1, 1, 1, 4)
        >>> flip(x)
        tensor([[[[3., 2., 1., 0.]]]])
    """
    n, d = images.shape[0], images.device
    m = geometry.flip_matrix(per_image(horizontal, n, d), per_image(vertical, n, d))
    return geometry.warp(images, m, **warp_kwargs)


def rotate(images: torch.Tensor, degrees: Param, **warp_kwargs) -> torch.Tensor:
    """Rotate images about their centre, counter-clockwise for positive angles.

    Args:
        images: Float tensor of shape (N, C, H, W).
        degrees: The angle, per batch or per image.
        **warp_kwargs: ``mode`` and ``padding_mode``, passed to `augment.warp`.

    Returns:
        The rotated batch, same shape.

    Example:
        >>> x = torch.rand(1, 3, 32, 32)
        >>> torch.allclose(rotate(x, 90.0), torch.rot90(x, 1, dims=(2, 3)), atol=1e-5)
        True
    """
    m = geometry.rotation_matrix(per_image(degrees, images.shape[0], images.device))
    return geometry.warp(images, m, **warp_kwargs)


def zoom(images: torch.Tensor, scale: Param, **warp_kwargs) -> torch.Tensor:
    """Magnify (scale > 1) or shrink (scale < 1) images about their centre.

    Args:
        images: Float tensor of shape (N, C, H, W).
        scale: The magnification, per batch or per image.
        **warp_kwargs: ``mode`` and ``padding_mode``, passed to `augment.warp`.

    Returns:
        The zoomed batch, same shape.
    """
    m = geometry.zoom_matrix(per_image(scale, images.shape[0], images.device))
    return geometry.warp(images, m, **warp_kwargs)


def translate(images: torch.Tensor, dx: Param, dy: Param = 0.0, **warp_kwargs) -> torch.Tensor:
    """Shift image content right by ``dx`` and down by ``dy``, as fractions of the size.

    Args:
        images: Float tensor of shape (N, C, H, W).
        dx: Horizontal shift as a fraction of the width (0.1 is 10%).
        dy: Vertical shift as a fraction of the height.
        **warp_kwargs: ``mode`` and ``padding_mode``, passed to `augment.warp`.

    Returns:
        The shifted batch, same shape.
    """
    n, d = images.shape[0], images.device
    h, w = images.shape[-2:]
    m = geometry.translation_matrix(per_image(dx, n, d) * w, per_image(dy, n, d) * h)
    return geometry.warp(images, m, **warp_kwargs)


def perspective(images: torch.Tensor, offsets: torch.Tensor, **warp_kwargs) -> torch.Tensor:
    """Warp images as if seen from another angle.

    Args:
        images: Float tensor of shape (N, C, H, W).
        offsets: Shape (4, 2) or (N, 4, 2): how far the point that each output corner
            reads moves, as a fraction of half the size (see `augment.perspective_matrix`).
        **warp_kwargs: ``mode`` and ``padding_mode``, passed to `augment.warp`.

    Returns:
        The warped batch, same shape.
    """
    n, size = images.shape[0], (images.shape[-2], images.shape[-1])
    offsets = torch.as_tensor(offsets, dtype=torch.float32, device=images.device)
    m = geometry.perspective_matrix(offsets.expand(n, 4, 2), size)
    return geometry.warp(images, m, **warp_kwargs)


def crop_pad_offsets(position: torch.Tensor, in_size: Size, out_size: Size) -> torch.Tensor:
    """Where a window of ``out_size`` sits in an image of ``in_size``, in whole pixels.

    Args:
        position: Shape (N, 2), the (x, y) position in [0, 1]: 0 is flush left (top),
            0.5 centred, 1 flush right (bottom). With padding, the image moves in the
            larger window instead.
        in_size: The input's (height, width).
        out_size: The window's (height, width).

    Returns:
        Shape (N, 2): the (dx, dy) shift of the window's centre from the image's centre.
    """
    slack = position.new_tensor([in_size[1] - out_size[1], in_size[0] - out_size[0]])
    # Whole-pixel offsets keep a plain crop exact: output pixels land on input pixels.
    return torch.round(position * slack) - slack / 2


def crop_pad(
    images: torch.Tensor,
    size: Size,
    position: Param | tuple[float, float] = 0.5,
    **warp_kwargs,
) -> torch.Tensor:
    """Cut a window of ``size`` out of the images, padding where it is larger than them.

    Args:
        images: Float tensor of shape (N, C, H, W).
        size: The output (height, width).
        position: The window's (x, y) position in [0, 1], or one number for both, or a
            tensor of shape (N, 2); 0.5 is centred (see `augment.functional.crop_pad_offsets`).
        **warp_kwargs: ``mode`` and ``padding_mode`` (what fills the padding), passed to
            `augment.warp`.

    Returns:
        The batch of shape (N, C, *size).

    Example:
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> crop_pad(x, (2, 2), position=0.0)
        tensor([[[[0., 1.],
                  [4., 5.]]]])
    """
    n, in_size = images.shape[0], (images.shape[-2], images.shape[-1])
    pos = torch.as_tensor(position, dtype=torch.float32, device=images.device).expand(n, 2)
    shift = crop_pad_offsets(pos, in_size, size)
    # The window's centre sits at +shift in the input: the content moves by -shift.
    m = geometry.translation_matrix(-shift[:, 0], -shift[:, 1])
    return geometry.warp(images, m, size, **warp_kwargs)
