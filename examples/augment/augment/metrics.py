"""A sharpness measure, to see what repeated resampling costs."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["sharpness"]


def sharpness(images: torch.Tensor, border: float = 0.25) -> torch.Tensor:
    """Variance of the Laplacian of each image's grey levels: higher is sharper.

    Every interpolation averages neighbouring pixels, which damps fine detail, so the
    Laplacian (a second derivative) has less variance after each resampling.

    Args:
        images: Float tensor of shape (N, C, H, W).
        border: Fraction of the height and width left out on each side, so that padding
            at the edges of a warped image does not count as detail.

    Returns:
        A tensor of shape (N,), one score per image.

    Example:
        >>> flat = torch.full((1, 3, 16, 16), 0.5)
        >>> sharpness(flat)
        tensor([0.])
    """
    if not 0.0 <= border < 0.5:
        raise ValueError(f"border must be in [0, 0.5), got {border}")
    grey = images.mean(dim=1, keepdim=True)
    h, w = grey.shape[-2:]
    top, left = int(h * border), int(w * border)
    grey = grey[..., top : h - top, left : w - left]
    kernel = grey.new_tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    laplacian = F.conv2d(grey, kernel.view(1, 1, 3, 3))
    return laplacian.flatten(1).var(dim=1)
