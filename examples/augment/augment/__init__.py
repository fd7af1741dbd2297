"""augment: batched image augmentation for PyTorch, one resampling per chain.

A chain of geometric transforms (flip, rotate, zoom, translate, perspective, crop/pad) is
fused into one 3x3 matrix per image, and each image is resampled once with
`torch.nn.functional.grid_sample`, on the CPU or on a GPU.
"""

from .data import sample_batch, sample_image
from .functional import crop_pad, flip, perspective, rotate, translate, zoom
from .geometry import (
    compose,
    flip_matrix,
    homography,
    identity,
    perspective_matrix,
    rotation_matrix,
    sampling_grid,
    translation_matrix,
    warp,
    zoom_matrix,
)
from .lighting import Brightness, Contrast, PixelTransform, brightness, contrast
from .metrics import sharpness
from .pipeline import Pipeline
from .plot import show_images
from .transforms import (
    CropPad,
    Flip,
    GeometricTransform,
    Perspective,
    Rotate,
    Transform,
    Translate,
    Zoom,
)

__version__ = "0.1.0"

__all__ = [
    # Random transforms and the pipeline that fuses them
    "Pipeline",
    "Transform",
    "GeometricTransform",
    "PixelTransform",
    "Flip",
    "Rotate",
    "Zoom",
    "Translate",
    "Perspective",
    "CropPad",
    "Brightness",
    "Contrast",
    # One transform with known parameters
    "flip",
    "rotate",
    "zoom",
    "translate",
    "perspective",
    "crop_pad",
    "brightness",
    "contrast",
    # Matrices and the warp
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
    # Helpers
    "sharpness",
    "sample_image",
    "sample_batch",
    "show_images",
]
