"""Each transform's matrix, and the single warp, checked against known answers."""

import doctest
import importlib

import pytest
import torch
import torch.nn.functional as F

import augment
from augment import geometry


def _one(value: float) -> torch.Tensor:
    return torch.tensor([value])


def _point(matrix: torch.Tensor, x: float, y: float) -> tuple[float, float]:
    u, v, w = (matrix[0] @ torch.tensor([x, y, 1.0])).tolist()
    return u / w, v / w


def test_flip_twice_is_identity():
    m = geometry.flip_matrix(torch.tensor([1.0, 0.0, 1.0]), torch.tensor([0.0, 1.0, 1.0]))
    assert torch.equal(m @ m, geometry.identity(3))


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    # Output pixels land on input pixel centres: only float rounding in the grid remains.
    return a.shape == b.shape and torch.allclose(a, b, rtol=0, atol=1e-5)


def test_flip_matches_torch_flip():
    x = torch.rand(2, 3, 7, 10)
    assert _same(augment.flip(x), x.flip(-1))
    assert _same(augment.flip(x, horizontal=0, vertical=1), x.flip(-2))
    assert _same(augment.flip(augment.flip(x)), x)


def test_flip_per_image():
    x = torch.rand(2, 1, 4, 4)
    out = augment.flip(x, horizontal=torch.tensor([1.0, 0.0]))
    assert _same(out[0], x[0].flip(-1))
    assert _same(out[1], x[1])


def test_rotate_90_moves_a_pixel_to_the_top():
    x = torch.zeros(1, 1, 32, 32)
    x[0, 0, 16, 28] = 1.0  # right of the centre
    out = augment.rotate(x, 90.0)
    # Counter-clockwise on screen: right of the centre goes to above it.
    row, col = divmod(int(out.flatten().argmax()), 32)
    assert (row, col) == (3, 16)
    assert out[0, 0, 3, 16] == pytest.approx(1.0, abs=1e-5)
    assert torch.allclose(out, torch.rot90(x, 1, dims=(2, 3)), atol=1e-5)


def test_rotate_90_on_a_non_square_image_keeps_its_shape():
    # Rotating in pixels (not in [-1, 1]) keeps angles true when H != W: the central
    # 8x8 block of a 16x24 image maps onto the central block of its rot90.
    x = torch.rand(1, 3, 16, 24)
    out = augment.rotate(x, 90.0)
    expected = torch.rot90(x[..., :, 4:20], 1, dims=(2, 3))
    assert torch.allclose(out[..., :, 4:20], expected, atol=1e-5)


def test_rotation_angles_add_and_full_turn_is_identity():
    a, b = geometry.rotation_matrix(_one(25.0)), geometry.rotation_matrix(_one(-70.0))
    assert torch.allclose(a @ b, geometry.rotation_matrix(_one(-45.0)), atol=1e-6)
    assert torch.allclose(geometry.rotation_matrix(_one(360.0)), geometry.identity(1), atol=1e-6)


def test_zoom_reads_closer_to_the_centre():
    m = geometry.zoom_matrix(_one(2.0))
    assert _point(m, 10.0, -4.0) == pytest.approx((5.0, -2.0))
    assert torch.allclose(m @ geometry.zoom_matrix(_one(0.5)), geometry.identity(1))


def test_translate_moves_content_by_whole_pixels_exactly():
    x = torch.zeros(1, 1, 10, 10)
    x[0, 0, 2, 3] = 1.0
    out = augment.translate(x, dx=0.2, dy=0.1)  # 2 pixels right, 1 down
    assert out[0, 0, 3, 5] == pytest.approx(1.0, abs=1e-6)
    assert out.sum() == pytest.approx(1.0, abs=1e-5)


def test_homography_maps_the_four_points():
    src = torch.tensor([[[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]]) * 50
    dst = src + torch.tensor([[[3.0, -2.0], [-5.0, 1.0], [4.0, 4.0], [-1.0, -6.0]]])
    h = geometry.homography(src, dst)
    for (x, y), (u, v) in zip(src[0].tolist(), dst[0].tolist(), strict=True):
        assert _point(h, x, y) == pytest.approx((u, v), abs=1e-4)


def test_perspective_matrix_moves_corners():
    assert torch.allclose(
        geometry.perspective_matrix(torch.zeros(1, 4, 2), (40, 60)), geometry.identity(1), atol=1e-6
    )
    offsets = torch.zeros(1, 4, 2)
    offsets[0, 0] = torch.tensor([0.1, 0.2])  # top-left corner reads further in
    m = geometry.perspective_matrix(offsets, (40, 60))
    assert _point(m, -30.0, -20.0) == pytest.approx((-27.0, -16.0), abs=1e-4)
    assert _point(m, 30.0, 20.0) == pytest.approx((30.0, 20.0), abs=1e-4)
    assert m[0, 2, :2].abs().sum() > 0  # truly projective, not affine


def test_crop_is_slicing_and_pad_surrounds_with_zeros():
    x = torch.rand(2, 3, 12, 10)
    assert _same(augment.crop_pad(x, (6, 4), position=(0.0, 1.0)), x[..., 6:, :4])
    assert _same(augment.crop_pad(x, (6, 4), position=(1.0, 0.0)), x[..., :6, 6:])
    padded = augment.crop_pad(x, (16, 14))
    assert padded.shape == (2, 3, 16, 14)
    assert _same(padded[..., 2:14, 2:12], x)
    assert padded.sum() == pytest.approx(x.sum().item(), rel=1e-6)


def test_sampling_grid_of_an_affine_matrix_equals_affine_grid():
    m = geometry.compose(
        geometry.rotation_matrix(torch.tensor([20.0, -35.0])),
        geometry.translation_matrix(torch.tensor([3.0, -1.0]), torch.tensor([0.0, 2.0])),
    )
    # affine_grid works in [-1, 1] units: half a side is 10 pixels across, 8 down.
    to_unit = torch.diag(torch.tensor([1 / 10, 1 / 8, 1.0]))
    theta = to_unit @ m @ torch.linalg.inv(to_unit)
    expected = F.affine_grid(theta[:, :2], [2, 1, 16, 20], align_corners=False)
    assert torch.allclose(geometry.sampling_grid(m, (16, 20), (16, 20)), expected, atol=1e-6)


def test_warp_identity_returns_the_input():
    x = torch.rand(3, 2, 9, 13)
    assert torch.allclose(augment.warp(x, geometry.identity(3)), x, atol=1e-6)
    assert torch.allclose(augment.warp(x, torch.eye(3)), x, atol=1e-6)


def test_warp_rejects_integer_images():
    with pytest.raises(ValueError, match="float tensor of shape"):
        augment.warp(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), torch.eye(3))


@pytest.mark.parametrize(
    "module",
    ["geometry", "functional", "transforms", "lighting", "pipeline", "metrics", "data"],
)
def test_docstring_examples(module):
    mod = importlib.import_module(f"augment.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_show_images_draws_a_grid():
    plt = pytest.importorskip("matplotlib.pyplot")
    augment.show_images(torch.rand(5, 3, 8, 8), ncols=3, titles=list("abcde"))
    fig = plt.gcf()
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:5]] == list("abcde")
    plt.close(fig)
