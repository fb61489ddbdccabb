"""Inference inputs: listing image files, loading them one by one (bounded size), mapping results back."""
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from visionllm.datasets.transforms.loading import IMAGE_EXTENSIONS, read_rgb
from visionllm.utils.errors import BadSampleError, PromptError

ImageInput = Union[str, np.ndarray]


def list_images(inputs: Union[ImageInput, Sequence[ImageInput]]) -> List[ImageInput]:
    """A path, a directory (its image files by extension, sorted), an array, or a list of those."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = str(inputs)
        if osp.isdir(inputs):
            files = sorted(f for f in os.listdir(inputs) if f.lower().endswith(IMAGE_EXTENSIONS)
                           and osp.isfile(osp.join(inputs, f)))
            if not files:
                raise PromptError(f'{inputs}: no images ({", ".join(IMAGE_EXTENSIONS)}) in this directory')
            return [osp.join(inputs, f) for f in files]
        if not osp.isfile(inputs):
            raise PromptError(f'{inputs}: no such image file or directory')
        return [inputs]
    if isinstance(inputs, np.ndarray):
        return [inputs]
    return [x for i in inputs for x in list_images(i)]


@dataclass
class LoadedImage:
    """One input image, loaded and (when larger than the limit) downscaled for the model.

    ``array``: RGB uint8 [h, w, 3] the model sees; ``scale``: h / original height (1.0 when kept);
    ``original_shape``: (H, W) of the file; ``name``: stem of the output files.
    """
    name: str
    source: Optional[str]
    array: np.ndarray
    scale: float
    original_shape: Tuple[int, int]


def max_aspect_of(pipeline: Sequence[dict]) -> Optional[float]:
    """The largest longer / shorter side ratio an image may have for a pipeline's keep-ratio resizes: one
    that brings the longer side to S px rounds a shorter side to 0 px past 2 S : 1. None without such resizes."""
    sides = [max(t['scale']) if isinstance(t['scale'], (list, tuple)) else t['scale'] for t in pipeline
             if str(t.get('type', '')).endswith('Resize') and t.get('keep_ratio') and t.get('scale')]
    return 2.0 * min(sides) if sides else None


def output_names(images: Sequence[ImageInput]) -> List[str]:
    """The output file stem of each input: its file's stem (``array_<i>`` for arrays); where stems repeat
    among the inputs (``a.png``, ``a.jpg``) the extension is kept (``a_png``, ``a_jpg``), and any name still
    repeated gets its position (``a_png-3``), so no two inputs write the same files."""
    stems = [f'array_{i}' if isinstance(x, np.ndarray) else osp.splitext(osp.basename(str(x)))[0]
             for i, x in enumerate(images)]
    names = [s if stems.count(s) == 1 or isinstance(x, np.ndarray) else
             s + '_' + osp.splitext(str(x))[1].lstrip('.').lower() for s, x in zip(stems, images)]
    seen: set = set()
    for i, n in enumerate(names):
        if n in seen:
            names[i] = n = f'{n}-{i}'
        seen.add(n)
    return names


def load_image(image: ImageInput, index: int, max_size: Optional[int], max_aspect: Optional[float] = None,
               name: Optional[str] = None) -> LoadedImage:
    """Read a path (``BadSampleError`` naming it if it cannot be decoded) or take an array; images whose
    longer side exceeds ``max_size`` are downscaled (area interpolation) to that size. An image more
    elongated than ``max_aspect`` (:func:`max_aspect_of`) is a ``BadSampleError`` naming it. ``name``: its
    output stem (:func:`output_names`; the file's stem by default)."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise PromptError(f'array input {index}: expected RGB uint8 [H, W, 3], got {image.dtype} '
                              f'{list(image.shape)}')
        arr, source = image, None
        name = name or f'array_{index}'
    else:
        arr, source = read_rgb(image), image
        name = name or osp.splitext(osp.basename(image))[0]
    h, w = arr.shape[:2]
    if max_aspect and max(h, w) > max_aspect * min(h, w):
        raise BadSampleError(source or name, 'image', f'{w} x {h} px: the longer side is more than {max_aspect:g} '
                             "times the shorter one, which would be 0 px at the model's input size; crop or pad it")
    scale = 1.0
    if max_size and max(h, w) > max_size:
        scale = max_size / max(h, w)
        arr = cv2.resize(arr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return LoadedImage(name, source, arr, scale, (h, w))


def rle_at(mask: np.ndarray, shape: Tuple[int, int]) -> dict:
    """COCO RLE of a bool [h, w] mask resized (nearest) to ``shape`` (H, W): one full-size mask at a time."""
    from pycocotools import mask as mask_utils
    m = mask.astype(np.uint8)
    if m.shape != tuple(shape):
        m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    rle = mask_utils.encode(np.asfortranarray(m))
    return dict(size=list(rle['size']), counts=rle['counts'].decode())


def to_original(pred: dict, image: LoadedImage) -> dict:
    """Map a JSON prediction of the (possibly downscaled) model image back to the file's coordinates:
    boxes and keypoints divided by the scale; label maps resized (nearest)."""
    s = image.scale
    out = dict(pred, image=image.source or image.name, image_size=list(image.original_shape))
    if s == 1.0:
        return out
    if 'bboxes' in pred:
        out['bboxes'] = [[v / s for v in b] for b in pred['bboxes']]
    if pred.get('keypoints'):
        out['keypoints'] = (np.asarray(pred['keypoints'], np.float64) / s).tolist()
    if 'label_map' in pred:
        H, W = image.original_shape
        out['label_map'] = cv2.resize(pred['label_map'].astype(np.int32), (W, H), interpolation=cv2.INTER_NEAREST)
    for key, value in pred.items():  # other dense maps [..., h, w] of the model image (a task's pred_fields)
        if key != 'label_map' and isinstance(value, np.ndarray) and value.ndim >= 2 and \
                value.shape[-2:] == image.array.shape[:2]:
            out[key] = resize_map(value, image.original_shape)
    return out


def resize_map(value: np.ndarray, size) -> np.ndarray:
    """[..., h, w] -> [..., H, W]: nearest for integer / bool maps, bilinear for float ones."""
    H, W = size
    flat = value.reshape(-1, *value.shape[-2:])
    as_float = np.issubdtype(value.dtype, np.floating)
    mode = cv2.INTER_LINEAR if as_float else cv2.INTER_NEAREST
    work = flat.astype(np.float32 if as_float else np.int32)
    out = np.stack([cv2.resize(m, (W, H), interpolation=mode) for m in work]).astype(value.dtype)
    return out.reshape(*value.shape[:-2], H, W)
