"""A sample image to try transforms on, with nothing to download.

The photograph of Grace Hopper ships with matplotlib (``matplotlib.cbook.get_sample_data``),
so these helpers need matplotlib installed (``pip install augment[plot]``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["sample_image", "sample_batch"]


def sample_image(size: int = 128) -> torch.Tensor:
    """Grace Hopper's portrait, cropped square and resized.

    Args:
        size: The height and width of the result, in pixels.

    Returns:
        A float32 tensor of shape (3, size, size) with values in [0, 1].

    Example:
        >>> sample_image(64).shape
        torch.Size([3, 64, 64])
    """
    import matplotlib.cbook as cbook
    import matplotlib.pyplot as plt

    pixels = plt.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    image = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255.0
    h, w = image.shape[-2:]
    side = min(h, w)
    # The face sits in the upper part of the 600x512 portrait: keep the top square.
    top, left = min(16, h - side), (w - side) // 2
    square = image[:, top : top + side, left : left + side]
    resized = F.interpolate(
        square[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
    return resized[0].clamp(0.0, 1.0)


def sample_batch(
    n: int = 8, size: int = 128, device: torch.device | str | None = None
) -> torch.Tensor:
    """``n`` copies of `augment.sample_image`, ready to be augmented.

    Args:
        n: Batch size.
        size: The height and width of each image.
        device: Where the batch lives (e.g. ``"cuda"``); the CPU when omitted.

    Returns:
        A float32 tensor of shape (n, 3, size, size).
    """
    return sample_image(size).to(device).expand(n, -1, -1, -1).contiguous()
