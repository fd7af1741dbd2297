"""Lighting: pointwise changes of pixel values, applied after the warp.

Lighting moves no pixels, so it needs no resampling and costs nothing in sharpness.
Images are expected in [0, 1] and are clamped back into that range.
"""

from __future__ import annotations

import torch

from .functional import Param, per_image
from .transforms import Range, Transform, _as_range, _log_uniform, _positive_range, _uniform

__all__ = ["brightness", "contrast", "PixelTransform", "Brightness", "Contrast"]


def _per_image_view(value: Param, images: torch.Tensor) -> torch.Tensor:
    """A parameter shaped (N, 1, 1, 1) to broadcast over a batch."""
    return per_image(value, images.shape[0], images.device).to(images.dtype).view(-1, 1, 1, 1)


def brightness(images: torch.Tensor, delta: Param) -> torch.Tensor:
    """Add ``delta`` to every pixel: brighter for positive values, darker for negative.

    Args:
        images: Float tensor of shape (N, C, H, W) with values in [0, 1].
        delta: The change, per batch or per image.

    Returns:
        The adjusted batch, clamped to [0, 1].

    Example:
        >>> brightness(torch.full((1, 1, 1, 2), 0.5), 0.25)
        tensor([[[[0.7500, 0.7500]]]])
    """
    return (images + _per_image_view(delta, images)).clamp(0.0, 1.0)


def contrast(images: torch.Tensor, factor: Param) -> torch.Tensor:
    """Stretch (factor > 1) or flatten (factor < 1) each image about its mean grey level.

    Args:
        images: Float tensor of shape (N, C, H, W) with values in [0, 1].
        factor: The stretch, per batch or per image; 1 leaves images unchanged.

    Returns:
        The adjusted batch, clamped to [0, 1].

    Example:
        >>> contrast(torch.tensor([[[[0.25, 0.75]]]]), 0.5)
        tensor([[[[0.3750, 0.6250]]]])
    """
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return ((images - mean) * _per_image_view(factor, images) + mean).clamp(0.0, 1.0)


class PixelTransform(Transform):
    """A random transform that changes pixel values in place of moving them."""

    def apply(self, images: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Apply sampled parameters to a batch.

        Args:
            images: Float tensor of shape (N, C, H, W).
            params: The output of `augment.Transform.sample`, shape (N, k).

        Returns:
            The adjusted batch, same shape.
        """
        raise NotImplementedError


class Brightness(PixelTransform):
    """Shift each image's brightness by a random amount, uniform in ``delta``.

    Args:
        delta: ``(low, high)`` added to pixel values, or ``d`` for ``(-d, d)``.
        p: Probability that an image is changed.
    """

    identity_params = (0.0,)

    def __init__(self, delta: Range = 0.2, p: float = 1.0) -> None:
        super().__init__(p)
        self.delta = _as_range(delta)

    def draw(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return _uniform((n, 1), *self.delta, generator)

    def apply(self, images: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return brightness(images, params[:, 0].to(images.device))


class Contrast(PixelTransform):
    """Scale each image's contrast by a random factor, log-uniform in ``factor``.

    Args:
        factor: ``(low, high)``, both positive; 1 leaves an image unchanged.
        p: Probability that an image is changed.
    """

    identity_params = (1.0,)

    def __init__(self, factor: tuple[float, float] = (0.7, 1.4), p: float = 1.0) -> None:
        super().__init__(p)
        self.factor = _positive_range(factor, "contrast")

    def draw(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return _log_uniform(n, self.factor, generator)

    def apply(self, images: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return contrast(images, params[:, 0].to(images.device))
