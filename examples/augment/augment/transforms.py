"""Random transforms: each draws per-image parameters, then turns them into matrices.

A transform does not touch pixels itself. `augment.Transform.sample` draws parameters for a batch
(from a `torch.Generator`, for reproducibility) and, for a geometric transform,
`augment.GeometricTransform.matrix` turns them into one 3x3 matrix per image. A `augment.Pipeline`
multiplies those matrices together and resamples each image once.
"""

from __future__ import annotations

import math

import torch

from . import geometry
from .functional import crop_pad_offsets
from .geometry import Size

__all__ = [
    "Transform",
    "GeometricTransform",
    "Flip",
    "Rotate",
    "Zoom",
    "Translate",
    "Perspective",
    "CropPad",
]

Range = float | tuple[float, float]


def _as_range(value: Range, *, symmetric_about: float = 0.0) -> tuple[float, float]:
    """``(low, high)`` as given, or ``d`` as ``(centre - d, centre + d)``."""
    if isinstance(value, tuple | list):
        low, high = (float(v) for v in value)
    else:
        low, high = symmetric_about - float(value), symmetric_about + float(value)
    if low > high:
        raise ValueError(f"empty range ({low}, {high}): the low end must come first")
    return low, high


def _uniform(
    shape: tuple[int, ...], low: float, high: float, generator: torch.Generator | None
) -> torch.Tensor:
    device = generator.device if generator is not None else None
    u = torch.rand(shape, generator=generator, device=device)
    return low + (high - low) * u


def _positive_range(value: tuple[float, float], what: str) -> tuple[float, float]:
    """A ``(low, high)`` range of factors, which must be positive to be drawn log-uniformly."""
    low, high = _as_range(value)
    if low <= 0:
        raise ValueError(f"{what} factors must be positive, got {value}")
    return low, high


def _log_uniform(
    n: int, factors: tuple[float, float], generator: torch.Generator | None
) -> torch.Tensor:
    """``(n, 1)`` factors whose logarithms are uniform: x2 as likely as x0.5."""
    low, high = math.log(factors[0]), math.log(factors[1])
    return _uniform((n, 1), low, high, generator).exp()


class Transform:
    """Base class of random transforms.

    Args:
        p: Probability that each image is transformed; the others get identity parameters.
    """

    #: Parameters that leave an image unchanged, one row's worth.
    identity_params: tuple[float, ...] = ()

    def __init__(self, p: float = 1.0) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p}")
        self.p = p

    def draw(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """Parameters for ``n`` images, ignoring ``p``; subclasses override this."""
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw parameters for a batch.

        Args:
            n: Batch size.
            generator: Source of randomness; the global one when omitted. The result lives
                on the generator's device.

        Returns:
            A float tensor of shape (n, k), one row of k parameters per image.
        """
        params = self.draw(n, generator)
        if self.p < 1.0:
            keep = _uniform((n, 1), 0.0, 1.0, generator) < self.p
            params = torch.where(keep, params, params.new_tensor(self.identity_params))
        return params

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class GeometricTransform(Transform):
    """A transform that moves pixels: its parameters become one matrix per image."""

    def matrix(self, params: torch.Tensor, size: Size) -> torch.Tensor:
        """Backward maps for the sampled parameters.

        Args:
            params: The output of `augment.Transform.sample`, shape (N, k).
            size: The (height, width) of the images this transform reads.

        Returns:
            Matrices of shape (N, 3, 3) on the device of ``params``.
        """
        raise NotImplementedError

    def output_size(self, size: Size) -> Size:
        """The (height, width) this transform writes, given the size it reads."""
        return size


class Flip(GeometricTransform):
    """Mirror images, each chosen with probability ``p``.

    Args:
        horizontal: Whether left-right mirroring is drawn.
        vertical: Whether top-bottom mirroring is drawn (each axis independently).
        p: Probability of mirroring along each enabled axis.

    Example:
        >>> Flip(p=1.0).sample(2)
        tensor([[1., 0.],
                [1., 0.]])
    """

    identity_params = (0.0, 0.0)

    def __init__(self, horizontal: bool = True, vertical: bool = False, p: float = 0.5) -> None:
        super().__init__(p)
        self.horizontal, self.vertical = horizontal, vertical

    def draw(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        enabled = torch.tensor([float(self.horizontal), float(self.vertical)])
        enabled = enabled.to(generator.device if generator is not None else "cpu")
        return ((_uniform((n, 2), 0.0, 1.0, generator) < self.p) * enabled).float()

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        # p is already applied per axis in draw().
        return self.draw(n, generator)

    def matrix(self, params: torch.Tensor, size: Size) -> torch.Tensor:
        return geometry.flip_matrix(params[:, 0], params[:, 1])


class Rotate(GeometricTransform):
    """Rotate each image by a random angle, uniform in ``degrees``.

    Args:
        degrees: ``(low, high)`` in degrees, or ``d`` for ``(-d, d)``.
        p: Probability that an image is rotated.
    """

    identity_params = (0.0,)

    def __init__(self, degrees: Range = 10.0, p: float = 1.0) -> None:
        super().__init__(p)
        self.degrees = _as_range(degrees)

    def draw(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return _uniform((n, 1), *self.degrees, generator)

    def matrix(self, params: torch.Tensor, size: Size) -> torch.Tensor:
        return geometry.rotation_matrix(params[:, 0])


class Zoom(GeometricTransform):
    """Magnify each image by a random factor, log-uniform in ``scale``.

    Log-uniform makes zooming in by 2 as likely as zooming out by 2.

    Args:
        scale: ``(low, high)`` magnification, both positive; 1 is no zoom.
        p: Probability that an image is zoomed.
    """

    identity_params = (1.0,)

    def __init__(self, scale: tuple[float, float] = (1.0, 1.2), p: float = 1.0) -> None:
        super().__init__(p)
        self.scale = _positive_range(scale, "zoom")

    def draw(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return _log_uniform(n, self.scale, generator)

    def matrix(self, params: torch.Tensor, size: Size) -> torch.Tensor:
        return geometry.zoom_matrix(params[:, 0])


class Translate(GeometricTransform):
    """Shift each image by a random fraction of its size, uniform per axis.

    Args:
        shift: ``(low, high)`` as a fraction of width/height, or ``d`` for ``(-d, d)``.
        p: Probability that an image is shifted.
    """

    identity_params = (0.0, 0.0)

    def __init__(self, shift: Range = 0.1, p: float = 1.0) -> None:
        super().__init__(p)
        self.shift = _as_range(shift)

    def draw(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return _uniform((n, 2), *self.shift, generator)

    def matrix(self, params: torch.Tensor, size: Size) -> torch.Tensor:
        h, w = size
        return geometry.translation_matrix(params[:, 0] * w, params[:, 1] * h)


class Perspective(GeometricTransform):
    """Tilt each image by moving its four corners at random.

    Args:
        magnitude: Each corner moves by up to this fraction of half the image's size,
            independently in x and y (see `augment.perspective_matrix`).
        p: Probability that an image is warped.
    """

    identity_params = (0.0,) * 8

    def __init__(self, magnitude: float = 0.2, p: float = 1.0) -> None:
        super().__init__(p)
        if not 0.0 <= magnitude < 1.0:
            raise ValueError(f"magnitude must be in [0, 1), got {magnitude}")
        self.magnitude = magnitude

    def draw(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        return _uniform((n, 8), -self.magnitude, self.magnitude, generator)

    def matrix(self, params: torch.Tensor, size: Size) -> torch.Tensor:
        return geometry.perspective_matrix(params.reshape(-1, 4, 2), size)


class CropPad(GeometricTransform):
    """Cut a window of fixed ``size`` at a random position, padding if it is larger.

    Args:
        size: The output (height, width).
        random_position: Place the window uniformly at random; centred when False.

    Example:
        >>> CropPad((64, 64)).output_size((128, 96))
        (64, 64)
    """

    identity_params = (0.5, 0.5)

    def __init__(self, size: Size, random_position: bool = True) -> None:
        super().__init__(1.0)
        self.size = (int(size[0]), int(size[1]))
        self.random_position = random_position

    def draw(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        if self.random_position:
            return _uniform((n, 2), 0.0, 1.0, generator)
        device = generator.device if generator is not None else None
        return torch.full((n, 2), 0.5, device=device)

    def matrix(self, params: torch.Tensor, size: Size) -> torch.Tensor:
        shift = crop_pad_offsets(params, size, self.size)
        return geometry.translation_matrix(-shift[:, 0], -shift[:, 1])

    def output_size(self, size: Size) -> Size:
        return self.size
