"""Showing a batch as a grid of pictures (needs matplotlib)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["show_images"]


def show_images(
    images: torch.Tensor,
    ncols: int = 4,
    titles: Sequence[str] | None = None,
    figsize: tuple[float, float] = (8, 4),
    dpi: int = 72,
) -> None:
    """Draw a batch as a grid of pictures in a new matplotlib figure.

    Pixels are drawn as squares (no smoothing), so that what the figure shows is what the
    tensor holds, blur included.

    Args:
        images: Tensor of shape (N, C, H, W) with C = 1 or 3 and values in [0, 1], on any
            device.
        ncols: Pictures per row.
        titles: One caption per picture.
        figsize: The figure's (width, height) in inches.
        dpi: Pixels per inch. Photographs compress poorly in PNG; 72 keeps an 8x4 grid of
            128-pixel images near their own resolution and the file small.

    Returns:
        None: in a notebook the figure is shown below the cell.
    """
    import matplotlib.pyplot as plt

    n = images.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, dpi=dpi, squeeze=False)
    pictures = images.detach().float().clamp(0.0, 1.0).cpu().permute(0, 2, 3, 1)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        picture = pictures[i].numpy()
        if picture.shape[-1] == 1:
            ax.imshow(picture[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            ax.imshow(picture, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
