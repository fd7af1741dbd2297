"""A chain of transforms, applied with one resampling per image.

Each resampling interpolates between pixels and so blurs a little; a chain of five warps
blurs five times and, with zero padding, loses the corners that an early rotation cut off
even when a later zoom would have brought them back. `augment.Pipeline` multiplies the matrices of
all geometric transforms together (perspective included: it is a 3x3 matrix too), builds
one sampling grid and calls `torch.nn.functional.grid_sample` once. fastai v1's data
augmentation did the same. Lighting changes pixel values only and runs after the warp.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from . import geometry
from .geometry import Size
from .lighting import PixelTransform
from .transforms import GeometricTransform, Transform

__all__ = ["Pipeline"]


class Pipeline:
    """Random augmentation of image batches, fused into a single warp.

    Geometric transforms run in the order given; pixel transforms (lighting) run after all
    of them, in the order given.

    Args:
        transforms: The chain, e.g. ``[Flip(), Rotate(10), Zoom((1, 1.3)), Brightness()]``.
        mode: Interpolation for `torch.nn.functional.grid_sample`: ``"bilinear"``,
            ``"nearest"`` or ``"bicubic"``.
        padding_mode: What is read from outside the image: ``"reflection"``, ``"zeros"`` or
            ``"border"``.

    Example:
        >>> from augment import Pipeline, Rotate, Zoom
        >>> pipe = Pipeline([Rotate(10), Zoom((1.0, 1.2))])
        >>> g = torch.Generator().manual_seed(0)
        >>> pipe(torch.rand(4, 3, 32, 32), generator=g).shape
        torch.Size([4, 3, 32, 32])
    """

    def __init__(
        self,
        transforms: Sequence[Transform],
        *,
        mode: str = "bilinear",
        padding_mode: str = "reflection",
    ) -> None:
        for t in transforms:
            if not isinstance(t, GeometricTransform | PixelTransform):
                raise TypeError(f"{t!r} is neither a GeometricTransform nor a PixelTransform")
        self.transforms = list(transforms)
        self.mode = mode
        self.padding_mode = padding_mode

    def __repr__(self) -> str:
        inner = ",\n".join(f"    {t!r}" for t in self.transforms)
        return f"Pipeline([\n{inner}\n], mode={self.mode!r}, padding_mode={self.padding_mode!r})"

    def _geometric(
        self, params: Sequence[torch.Tensor]
    ) -> list[tuple[GeometricTransform, torch.Tensor]]:
        pairs = zip(self.transforms, params, strict=True)
        return [(t, p) for t, p in pairs if isinstance(t, GeometricTransform)]

    def _pixel(self, params: Sequence[torch.Tensor]) -> list[tuple[PixelTransform, torch.Tensor]]:
        pairs = zip(self.transforms, params, strict=True)
        return [(t, p) for t, p in pairs if isinstance(t, PixelTransform)]

    def sample(self, n: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Draw the parameters of every transform for a batch.

        Sampling is separate from applying, so the very same augmentation can be applied
        fused and step by step, or on another device.

        Args:
            n: Batch size.
            generator: Source of randomness; the global one when omitted.

        Returns:
            One tensor of parameters per transform, in order.
        """
        return [t.sample(n, generator) for t in self.transforms]

    def output_size(self, size: Size) -> Size:
        """The (height, width) of the output for inputs of ``size``."""
        for t in self.transforms:
            if isinstance(t, GeometricTransform):
                size = t.output_size(size)
        return size

    def matrices(
        self, params: Sequence[torch.Tensor], size: Size, device: torch.device | None = None
    ) -> list[torch.Tensor]:
        """Each geometric transform's matrices, in order.

        Args:
            params: The output of `augment.Pipeline.sample`.
            size: The (height, width) of the input images.
            device: Where to build the matrices; the parameters' device when omitted.

        Returns:
            One tensor of shape (N, 3, 3) per geometric transform.
        """
        out = []
        for t, p in self._geometric(params):
            out.append(t.matrix(p.to(device), size))
            size = t.output_size(size)
        return out

    def matrix(
        self, params: Sequence[torch.Tensor], size: Size, device: torch.device | None = None
    ) -> torch.Tensor:
        """The whole geometric chain as one matrix per image.

        Args:
            params: The output of `augment.Pipeline.sample`.
            size: The (height, width) of the input images.
            device: Where to build the matrix; the parameters' device when omitted.

        Returns:
            Matrices of shape (N, 3, 3) (see `augment.compose`).
        """
        n = len(params[0]) if params else 0
        start = geometry.identity(n, device=device)
        return geometry.compose(start, *self.matrices(params, size, device))

    def apply(
        self, images: torch.Tensor, params: Sequence[torch.Tensor], *, fused: bool = True
    ) -> torch.Tensor:
        """Apply sampled parameters to a batch.

        Args:
            images: Float tensor of shape (N, C, H, W).
            params: The output of `augment.Pipeline.sample` for N images.
            fused: One resampling for the whole chain (the point of this library). False
                resamples once per geometric transform, for comparison.

        Returns:
            The augmented batch, of shape (N, C, *self.output_size((H, W))).
        """
        if len(params) != len(self.transforms):
            raise ValueError(
                f"expected {len(self.transforms)} parameter tensors, got {len(params)}"
            )
        size: Size = (images.shape[-2], images.shape[-1])
        warp_kwargs = {"mode": self.mode, "padding_mode": self.padding_mode}
        if not self._geometric(params):
            pass  # lighting alone moves no pixels: no resampling at all
        elif fused:
            fused_matrix = self.matrix(params, size, images.device)
            images = geometry.warp(images, fused_matrix, self.output_size(size), **warp_kwargs)
        else:
            for t, p in self._geometric(params):
                m = t.matrix(p.to(images.device), size)
                size = t.output_size(size)
                images = geometry.warp(images, m, size, **warp_kwargs)
        for pixel_transform, p in self._pixel(params):
            images = pixel_transform.apply(images, p.to(images.device))
        return images

    def __call__(
        self,
        images: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        fused: bool = True,
    ) -> torch.Tensor:
        """Sample fresh parameters and apply them: ``apply(images, sample(N, generator))``.

        Args:
            images: Float tensor of shape (N, C, H, W), on any device.
            generator: Source of randomness; the global one when omitted. A CPU generator
                gives the same augmentation whatever device the images are on.
            fused: See `augment.Pipeline.apply`.

        Returns:
            The augmented batch.
        """
        return self.apply(images, self.sample(images.shape[0], generator), fused=fused)
