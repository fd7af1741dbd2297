"""The fused chain: equal to the composed transform, sharper than step by step, same on GPU."""

import pytest
import torch
import torch.nn.functional as F

import augment
from augment import (
    Brightness,
    Contrast,
    CropPad,
    Flip,
    Perspective,
    Pipeline,
    Rotate,
    Translate,
    Zoom,
)


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def photo() -> torch.Tensor:
    return augment.sample_batch(4, size=96)


AFFINE_CHAIN = [Flip(p=0.5), Rotate(30), Zoom((0.8, 1.4)), Translate(0.15)]
FULL_CHAIN = [*AFFINE_CHAIN, Perspective(0.25), CropPad((72, 80))]


def test_fused_matrix_is_the_product_of_the_individual_matrices():
    pipe = Pipeline(FULL_CHAIN)
    params = pipe.sample(5, _generator())
    size = (96, 96)
    product = torch.eye(3).expand(5, 3, 3)
    for t, p in zip(pipe.transforms, params, strict=True):
        product = product @ t.matrix(p, size)
        size = t.output_size(size)
    assert torch.allclose(pipe.matrix(params, (96, 96)), product, atol=1e-6)


def test_fused_affine_chain_equals_one_affine_grid_sample(photo):
    pipe = Pipeline(AFFINE_CHAIN, padding_mode="zeros")
    params = pipe.sample(len(photo), _generator(1))
    m = pipe.matrix(params, (96, 96))
    assert torch.allclose(m[:, 2], torch.tensor([0.0, 0.0, 1.0]).expand(len(photo), 3))
    # The same map through PyTorch's own affine_grid, in its [-1, 1] units (half side = 48).
    theta = (m / torch.tensor([[48.0], [48.0], [1.0]]) * torch.tensor([48.0, 48.0, 1.0]))[:, :2]
    grid = F.affine_grid(theta, list(photo.shape), align_corners=False)
    expected = F.grid_sample(photo, grid, padding_mode="zeros", align_corners=False)
    assert torch.allclose(pipe.apply(photo, params), expected, atol=1e-5)


def test_fused_chain_equals_one_warp_with_the_composed_matrix(photo):
    pipe = Pipeline(FULL_CHAIN, padding_mode="border")
    params = pipe.sample(len(photo), _generator(2))
    composed = augment.compose(*pipe.matrices(params, (96, 96)))
    expected = augment.warp(photo, composed, (72, 80), padding_mode="border")
    out = pipe.apply(photo, params)
    assert out.shape == (4, 3, 72, 80)
    assert torch.allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize("padding_mode", ["reflection", "zeros"])
def test_fused_is_sharper_than_step_by_step(padding_mode):
    photo = augment.sample_batch(1, size=128)
    pipe = Pipeline(
        [Rotate((10, 10)), Zoom((1.2, 1.2)), Rotate((-10, -10))], padding_mode=padding_mode
    )
    params = pipe.sample(1)
    fused = augment.sharpness(pipe.apply(photo, params, fused=True)).item()
    sequential = augment.sharpness(pipe.apply(photo, params, fused=False)).item()
    # Measured: fused about 2.4x the step-by-step score.
    assert fused > 1.8 * sequential
    # One bilinear zoom loses detail too, but the fused result is still a plain zoom.
    assert fused == pytest.approx(augment.sharpness(augment.zoom(photo, 1.2)).item(), rel=1e-3)


def test_same_seed_same_augmentation_and_sampling_is_separate(photo):
    pipe = Pipeline([*FULL_CHAIN, Brightness(0.2), Contrast()])
    a = pipe(photo, generator=_generator(7))
    b = pipe(photo, generator=_generator(7))
    c = pipe.apply(photo, pipe.sample(len(photo), _generator(7)))
    assert torch.equal(a, b) and torch.equal(a, c)
    assert not torch.equal(a, pipe(photo, generator=_generator(8)))


def test_parameters_differ_per_image_and_p_zero_is_identity():
    params = Rotate(45).sample(16, _generator())
    assert params.shape == (16, 1) and params.std() > 5 and params.abs().max() <= 45
    assert torch.equal(Rotate(45, p=0.0).sample(16, _generator()), torch.zeros(16, 1))
    assert torch.equal(Perspective(0.3, p=0.0).sample(3), torch.zeros(3, 8))
    flips = Flip(p=0.5).sample(1000, _generator())
    assert 400 < flips[:, 0].sum() < 600 and flips[:, 1].sum() == 0


def test_flips_alone_are_lossless_fused_and_step_by_step(photo):
    pipe = Pipeline([Flip(p=1.0), Flip(horizontal=False, vertical=True, p=1.0)])
    params = pipe.sample(len(photo))
    expected = photo.flip(-1).flip(-2)
    # Every output pixel lands on an input pixel centre: only float rounding remains.
    assert torch.allclose(pipe.apply(photo, params), expected, atol=1e-5)
    assert torch.allclose(pipe.apply(photo, params, fused=False), expected, atol=1e-5)


def test_lighting_runs_after_the_warp_and_alone_does_not_resample(photo):
    light = Pipeline([Brightness((0.1, 0.1)), Contrast((1.5, 1.5))])
    expected = augment.contrast(augment.brightness(photo, 0.1), 1.5)
    assert torch.equal(light(photo), expected)
    chain = Pipeline([Brightness((0.1, 0.1)), Rotate((20, 20))], padding_mode="zeros")
    warped_first = augment.brightness(augment.rotate(photo, 20.0, padding_mode="zeros"), 0.1)
    assert torch.allclose(chain(photo), warped_first, atol=1e-6)


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="positive"):
        Zoom((-1.0, 2.0))
    with pytest.raises(ValueError, match="low end must come first"):
        Rotate((10, -10))
    with pytest.raises(TypeError, match="neither"):
        Pipeline([lambda x: x])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="expected 2 parameter tensors"):
        Pipeline([Rotate(), Zoom()]).apply(torch.rand(1, 3, 8, 8), [torch.zeros(1, 1)])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_batch_matches_cpu(photo):
    pipe = Pipeline([*FULL_CHAIN, Brightness(0.2), Contrast()])
    batch = augment.sample_batch(32, size=96)
    params = pipe.sample(32, _generator(3))
    on_cpu = pipe.apply(batch, params)
    on_gpu = pipe.apply(batch.cuda(), params)
    assert on_gpu.device.type == "cuda"
    assert torch.allclose(on_gpu.cpu(), on_cpu, atol=1e-4)
    # A CPU generator gives the same augmentation whatever device the images are on.
    direct = pipe(batch.cuda(), generator=_generator(3))
    assert torch.allclose(direct.cpu(), on_cpu, atol=1e-4)
    seq_cpu = pipe.apply(batch, params, fused=False)
    seq_gpu = pipe.apply(batch.cuda(), params, fused=False)
    assert torch.allclose(seq_gpu.cpu(), seq_cpu, atol=1e-4)
