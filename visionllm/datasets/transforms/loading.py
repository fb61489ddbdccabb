"""Robust image loading: any common format / bit depth / channel count -> RGB uint8, EXIF-oriented."""
import io

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform

from visionllm.registry import TRANSFORMS
from visionllm.utils.errors import BadSampleError

# file extensions read_rgb decodes (OpenCV's codecs; GIF: the first frame)
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.jpe', '.jfif', '.bmp', '.dib', '.tif', '.tiff', '.webp', '.gif',
                    '.pbm', '.pgm', '.ppm', '.pnm', '.sr', '.ras')
EXIF_ORIENTATION = 0x0112
ALPHA_BACKGROUND = 255  # transparent pixels become white, as most viewers show them


def exif_orientation(buf: bytes) -> int:
    """The EXIF orientation tag (1-8) of an encoded image, 1 when absent or unreadable."""
    try:
        from PIL import Image
        with Image.open(io.BytesIO(buf)) as im:
            return int(im.getexif().get(EXIF_ORIENTATION, 1) or 1)
    except Exception:  # not an image PIL reads, or a broken EXIF block: no rotation
        return 1


def apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an RGB uint8 [H, W, 3] array as stored into the upright image an EXIF ``orientation`` (1-8)
    describes, with PIL's ``ImageOps.exif_transpose`` (the pixels were decoded by OpenCV, which keeps
    16-bit data; the tag is read from the file by :func:`exif_orientation`)."""
    if orientation == 1:
        return img
    from PIL import Image, ImageOps
    im = Image.fromarray(img)
    im.getexif()[EXIF_ORIENTATION] = orientation
    return np.array(ImageOps.exif_transpose(im))  # writable, as the decoded arrays


def to_uint8(img: np.ndarray) -> np.ndarray:
    """16-bit / float [H, W(, C)] -> uint8: colour scaled by the image's own maximum (0 stays 0; floats
    in [0, 1] by 1), an alpha channel by its type's full range."""
    full = 1.0 if img.dtype.kind == 'f' else float(np.iinfo(img.dtype).max)
    x = img.astype(np.float32)
    colour = x[..., :3] if x.ndim == 3 else x
    hi = float(colour.max()) if colour.size else 0.0
    hi = max(hi, 1.0) if img.dtype.kind == 'f' else (hi if hi > 0 else 1.0)
    out = x * (255.0 / hi)
    if x.ndim == 3 and x.shape[2] == 4:
        out[..., 3] = x[..., 3] * (255.0 / full)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def read_rgb(path: str, backend_args=None) -> np.ndarray:
    """Read an image file as RGB uint8 [H, W, 3], upright (EXIF orientation applied, as mmcv's default
    ``imread`` does).

    Grayscale is replicated to 3 channels, alpha is composited on white, 16-bit and float images are
    rescaled to 8 bits by their own maximum (so 16-bit data that uses only a low range, as microscopy
    often does, stays visible instead of turning black); GIFs give their first frame. Raises
    :class:`BadSampleError` naming the file when it is missing or cannot be decoded.
    """
    try:
        buf = fileio.get(path, backend_args=backend_args)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        raise BadSampleError(path, 'img_path', f'cannot read image file ({type(e).__name__})') from None
    img = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_UNCHANGED) if buf else None
    if img is None or img.size == 0:
        raise BadSampleError(path, 'img_path', f'cannot decode image (truncated, corrupt or not an image; '
                             f'{len(buf)} bytes)')
    if img.dtype != np.uint8:
        img = to_uint8(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    elif img.shape[2] == 4:
        alpha = img[..., 3:].astype(np.float32) / 255
        img = (img[..., :3] * alpha + ALPHA_BACKGROUND * (1 - alpha) + 0.5).astype(np.uint8)
    elif img.shape[2] != 3:
        raise BadSampleError(path, 'img_path', f'unsupported channel count {img.shape[2]}')
    return apply_orientation(np.ascontiguousarray(img[..., ::-1]), exif_orientation(buf))


def write_rgb(path: str, img: np.ndarray) -> None:
    """Write an RGB uint8 image [H, W, 3] (creating the folder)."""
    import os
    import os.path as osp
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    cv2.imwrite(path, np.ascontiguousarray(img[..., ::-1]))


@TRANSFORMS.register_module()
class LoadImage(BaseTransform):
    """Load ``results['img_path']`` into ``results['img']`` (RGB uint8), set ``img_shape`` /
    ``ori_shape``. Unlike mmcv's loader it never returns None: bad files raise BadSampleError."""

    def __init__(self, backend_args=None):
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        img = read_rgb(results['img_path'], self.backend_args)
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadTargetImage(BaseTransform):
    """Load ``results['gt_img_path']`` (a generation / edit target) into ``results['gt_img']`` (RGB uint8),
    resized to ``size`` x ``size`` when given."""

    def __init__(self, size: int = None, backend_args=None):
        self.size, self.backend_args = size, backend_args

    def transform(self, results: dict) -> dict:
        img = read_rgb(results['gt_img_path'], self.backend_args)
        if self.size and img.shape[:2] != (self.size, self.size):
            img = cv2.resize(img, (self.size, self.size), interpolation=cv2.INTER_AREA)
        results['gt_img'] = img
        return results


@TRANSFORMS.register_module()
class LoadDetAnnotations(BaseTransform):
    """mmdet's ``LoadAnnotations`` for boxes and instance masks, where masks follow the data: an image
    whose instances do not all carry a ``segmentation`` (box-only COCO files) gets boxes only, and the
    detection decoder's mask loss skips it. Arguments are mmdet's."""

    def __init__(self, **kwargs):
        from mmdet.datasets.transforms import LoadAnnotations
        self.with_mask = kwargs.get('with_mask', False)
        self.full = LoadAnnotations(**kwargs)
        self.boxes_only = LoadAnnotations(**dict(kwargs, with_mask=False))

    def transform(self, results: dict) -> dict:
        has_masks = all('mask' in inst for inst in results.get('instances', []))
        return (self.full if self.with_mask and has_masks else self.boxes_only).transform(results)
