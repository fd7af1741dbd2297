"""Homogeneous 3x3 matrices for geometric transforms, and the one warp that applies them.

Every matrix in this module is a *backward* map, the direction that
`torch.nn.functional.grid_sample` needs: it takes the position of an output pixel to the
position in the input image that the pixel is read from. Positions are in centred pixel
coordinates: the origin is the centre of the image, x points right, y points down and one
unit is one pixel. Working in pixels rather than in grid_sample's [-1, 1] range keeps
rotations true on images that are not square.

Because the maps run backwards, a chain "first A, then B" reads its pixels through
``A @ B``: see `augment.compose`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "identity",
    "flip_matrix",
    "rotation_matrix",
    "zoom_matrix",
    "translation_matrix",
    "homography",
    "perspective_matrix",
    "compose",
    "sampling_grid",
    "warp",
]

Size = tuple[int, int]


def identity(n: int, *, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """A batch of identity matrices.

    Args:
        n: Number of matrices.
        dtype: Their dtype.
        device: Their device.

    Returns:
        A tensor of shape (n, 3, 3).
    """
    return torch.eye(3, dtype=dtype, device=device).expand(n, 3, 3).clone()


def _from_rows(*entries: torch.Tensor) -> torch.Tensor:
    """Stack nine (N,) tensors, row by row, into (N, 3, 3) matrices."""
    return torch.stack(entries, dim=-1).reshape(-1, 3, 3)


def flip_matrix(horizontal: torch.Tensor, vertical: torch.Tensor) -> torch.Tensor:
    """Mirror images left-right and/or top-bottom.

    Args:
        horizontal: Shape (N,); where true (or 1), mirror image i left-right.
        vertical: Shape (N,); where true (or 1), mirror image i top-bottom.

    Returns:
        Matrices of shape (N, 3, 3). A flip is its own inverse.

    Example:
        >>> flip_matrix(torch.tensor([1.0]), torch.tensor([0.0]))[0]
        tensor([[-1.,  0.,  0.],
                [ 0.,  1.,  0.],
                [ 0.,  0.,  1.]])
    """
    sx = 1.0 - 2.0 * horizontal.float()
    sy = 1.0 - 2.0 * vertical.float()
    zero, one = torch.zeros_like(sx), torch.ones_like(sx)
    return _from_rows(sx, zero, zero, zero, sy, zero, zero, zero, one)


def rotation_matrix(degrees: torch.Tensor) -> torch.Tensor:
    """Rotate images about their centre, counter-clockwise as seen on screen.

    Args:
        degrees: Shape (N,), the angle for each image.

    Returns:
        Matrices of shape (N, 3, 3).

    Example:
        >>> rotation_matrix(torch.tensor([90.0]))[0].round() + 0.0  # + 0.0 turns -0. into 0.
        tensor([[ 0., -1.,  0.],
                [ 1.,  0.,  0.],
                [ 0.,  0.,  1.]])
    """
    theta = degrees * (math.pi / 180.0)
    c, s = torch.cos(theta), torch.sin(theta)
    zero, one = torch.zeros_like(c), torch.ones_like(c)
    # With y pointing down, content turned counter-clockwise by theta is read back
    # through the rotation by -theta of the usual y-up convention.
    return _from_rows(c, -s, zero, s, c, zero, zero, zero, one)


def zoom_matrix(scale: torch.Tensor) -> torch.Tensor:
    """Magnify images about their centre.

    Args:
        scale: Shape (N,); 2.0 shows the central half of the image at twice the size,
            0.5 shrinks the image to half its size.

    Returns:
        Matrices of shape (N, 3, 3).
    """
    inv = 1.0 / scale
    zero, one = torch.zeros_like(inv), torch.ones_like(inv)
    return _from_rows(inv, zero, zero, zero, inv, zero, zero, zero, one)


def translation_matrix(dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Move image content by (dx, dy) pixels: right and down for positive values.

    Args:
        dx: Shape (N,), horizontal shift in pixels.
        dy: Shape (N,), vertical shift in pixels.

    Returns:
        Matrices of shape (N, 3, 3).
    """
    zero, one = torch.zeros_like(dx), torch.ones_like(dx)
    return _from_rows(one, zero, -dx, zero, one, -dy, zero, zero, one)


def homography(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """The projective matrices that take four points onto four others.

    Solves the direct linear transform (with the bottom-right entry fixed to 1) in float64,
    so that pixel-sized coordinates stay well conditioned.

    Args:
        src: Shape (N, 4, 2), four (x, y) points per image, no three on a line.
        dst: Shape (N, 4, 2), where each of those points must land.

    Returns:
        Matrices H of shape (N, 3, 3), in src's dtype, with ``H @ [x, y, 1]``
        proportional to ``[u, v, 1]`` for each pair.

    Example:
        >>> square = torch.tensor([[[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]])
        >>> scale_by_two = torch.diag(torch.tensor([2.0, 2.0, 1.0]))
        >>> torch.allclose(homography(square, 2 * square)[0], scale_by_two, atol=1e-6)
        True
    """
    s, d = src.double(), dst.double()
    x, y, u, v = s[..., 0], s[..., 1], d[..., 0], d[..., 1]
    zero, one = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, one, zero, zero, zero, -u * x, -u * y], dim=-1)
    rows_v = torch.stack([zero, zero, zero, x, y, one, -v * x, -v * y], dim=-1)
    a = torch.cat([rows_u, rows_v], dim=1)  # (N, 8, 8)
    b = torch.cat([u, v], dim=1)  # (N, 8)
    h = torch.linalg.solve(a, b)
    return torch.cat([h, torch.ones_like(h[:, :1])], dim=1).reshape(-1, 3, 3).to(src.dtype)


def perspective_matrix(offsets: torch.Tensor, size: Size) -> torch.Tensor:
    """Tilt images in 3-D by moving where each corner of the output reads from.

    Args:
        offsets: Shape (N, 4, 2): for the corners top-left, top-right, bottom-right and
            bottom-left, the (x, y) displacement of the point each one reads, as a fraction
            of half the image's width and height. 0 everywhere is the identity; keep the
            values well inside (-1, 1).
        size: The image's (height, width).

    Returns:
        Matrices of shape (N, 3, 3).
    """
    h, w = size
    half = offsets.new_tensor([w / 2, h / 2])
    corners = offsets.new_tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]) * half
    corners = corners.expand_as(offsets)
    return homography(corners, corners + offsets * half)


def compose(*matrices: torch.Tensor) -> torch.Tensor:
    """Fuse a chain of transforms, given in the order they are applied, into one matrix.

    Args:
        *matrices: Backward maps of shape (N, 3, 3) or (3, 3), first transform first.

    Returns:
        One matrix per image, ``matrices[0] @ matrices[1] @ ...``: the output reads pixel
        p of the input at the position the last transform reads, as seen through each
        earlier one in turn.

    Example:
        >>> quarter = rotation_matrix(torch.tensor([90.0]))
        >>> half = rotation_matrix(torch.tensor([180.0]))
        >>> torch.allclose(compose(quarter, quarter), half, atol=1e-6)
        True
    """
    if not matrices:
        raise ValueError("compose() needs at least one matrix")
    fused = matrices[0]
    for m in matrices[1:]:
        fused = fused @ m
    return fused


def _pixels_to_normalized(size: Size, like: torch.Tensor) -> torch.Tensor:
    """Diagonal matrix taking centred pixel coordinates to grid_sample's [-1, 1] range."""
    h, w = size
    return torch.diag(like.new_tensor([2.0 / w, 2.0 / h, 1.0]))


def sampling_grid(matrix: torch.Tensor, in_size: Size, out_size: Size) -> torch.Tensor:
    """The grid that `torch.nn.functional.grid_sample` needs to apply ``matrix``.

    Args:
        matrix: Backward maps of shape (N, 3, 3), in centred pixel coordinates.
        in_size: The (height, width) of the images being read.
        out_size: The (height, width) of the images being written.

    Returns:
        A grid of shape (N, out_h, out_w, 2) in the [-1, 1] coordinates of
        ``align_corners=False``. Projective matrices are divided through by w.
    """
    h, w = out_size
    to_in = _pixels_to_normalized(in_size, matrix)
    from_out = torch.linalg.inv(_pixels_to_normalized(out_size, matrix))
    normalized = to_in @ matrix @ from_out
    # Pixel centres of the output, the same positions F.affine_grid uses.
    ys = (torch.arange(h, dtype=matrix.dtype, device=matrix.device) * 2 + 1) / h - 1
    xs = (torch.arange(w, dtype=matrix.dtype, device=matrix.device) * 2 + 1) / w - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([gx, gy, torch.ones_like(gx)], dim=-1).reshape(1, h * w, 3)
    mapped = points @ normalized.transpose(1, 2)
    grid = mapped[..., :2] / mapped[..., 2:]
    return grid.reshape(-1, h, w, 2)


def warp(
    images: torch.Tensor,
    matrix: torch.Tensor,
    size: Size | None = None,
    *,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
) -> torch.Tensor:
    """Resample a batch through one matrix per image: one call of grid_sample.

    Args:
        images: Float tensor of shape (N, C, H, W).
        matrix: Backward maps of shape (N, 3, 3), or (3, 3) for the whole batch.
        size: The output (height, width); the input's when omitted.
        mode: Interpolation, ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        padding_mode: What is read outside the input: ``"zeros"``, ``"border"`` or
            ``"reflection"``.

    Returns:
        A tensor of shape (N, C, *size) on the images' device.

    Example:
        >>> x = torch.rand(2, 3, 8, 8)
        >>> torch.allclose(warp(x, identity(2)), x, atol=1e-6)
        True
    """
    if images.ndim != 4 or not images.is_floating_point():
        raise ValueError(
            f"images must be a float tensor of shape (N, C, H, W), got {images.dtype} "
            f"of shape {tuple(images.shape)}"
        )
    n, _, h, w = images.shape
    matrix = matrix.to(device=images.device, dtype=images.dtype).expand(n, 3, 3)
    out_size = (h, w) if size is None else (int(size[0]), int(size[1]))
    grid = sampling_grid(matrix, (h, w), out_size)
    return F.grid_sample(images, grid, mode=mode, padding_mode=padding_mode, align_corners=False)
