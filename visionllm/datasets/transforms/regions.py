"""Visual prompts: regions (box, point, scribble, mask) -> region masks, and the region tasks' conversations.

A region prompt is a dict: ``{'kind': 'box', 'box': [x0, y0, x1, y1]}``, ``{'kind': 'point', 'point': [x, y]}`` (or
``'points': [[x, y], ...]``: several clicks on one object),
``{'kind': 'scribble', 'points': [[x, y], ...]}`` or ``{'kind': 'mask', 'mask': bool array [H, W]}``, in the
image's original pixel coordinates (a mask at the original size). :func:`rasterize_regions` turns them into
bool masks [R, h, w] at the resized image the decoders and the region encoder see.
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from visionllm.datasets import prompts
from visionllm.registry import TRANSFORMS
from visionllm.utils.errors import BadSampleError, PromptError

from .prompts import _keep

REGION_KINDS = ('box', 'point', 'scribble', 'mask')


def point_radius(shape: Tuple[int, int]) -> int:
    """Radius in pixels of a click's disk in an image of ``shape`` (h, w): 3 % of the shorter side, >= 2."""
    return max(2, round(0.03 * min(shape)))


def _check_xy(name: str, xy, w: float, h: float) -> None:
    if not (0 <= xy[0] <= w and 0 <= xy[1] <= h):
        raise PromptError(f'{name}: point ({xy[0]:g}, {xy[1]:g}) is outside the {w:g}x{h:g} image')


def check_region(i: int, region: dict, ori_shape: Tuple[int, int]) -> None:
    """PromptError naming region ``i`` when it is malformed, degenerate, empty or outside the image."""
    try:
        _check_region(i, region, ori_shape)
    except (TypeError, ValueError) as e:  # e.g. a box of strings, ragged points
        if isinstance(e, PromptError):
            raise
        raise PromptError(f'region {i + 1}: malformed {region.get("kind") if isinstance(region, dict) else region!r} '
                          f'region ({e})') from None


def _check_region(i: int, region: dict, ori_shape: Tuple[int, int]) -> None:
    name = f'region {i + 1}'
    kind = region.get('kind') if isinstance(region, dict) else None
    if kind not in REGION_KINDS:
        raise PromptError(f'{name}: kind must be one of {REGION_KINDS}, got {kind!r}')
    h, w = ori_shape
    if kind == 'box':
        box = np.asarray(region.get('box', ()), np.float64).reshape(-1)
        if box.size != 4 or not np.isfinite(box).all():
            raise PromptError(f'{name}: a box is x0,y0,x1,y1 (4 numbers), got {region.get("box")!r}')
        x0, y0, x1, y1 = box
        if x1 <= x0 or y1 <= y0:
            raise PromptError(f'{name}: degenerate box {x0:g},{y0:g},{x1:g},{y1:g} (needs x1 > x0 and y1 > y0)')
        if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
            raise PromptError(f'{name}: box {x0:g},{y0:g},{x1:g},{y1:g} is outside the {w}x{h} image')
    elif kind == 'point':
        pts = np.asarray(region['points'] if 'points' in region else [region.get('point', ())], np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0 or not np.isfinite(pts).all():
            raise PromptError(f'{name}: a point is x,y (2 numbers), got {region.get("point", region.get("points"))!r}')
        for p in pts:
            _check_xy(name, p, w, h)
    elif kind == 'scribble':
        pts = np.asarray(region.get('points', ()), np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0 or not np.isfinite(pts).all():
            raise PromptError(f'{name}: a scribble is a list of x,y points, got {region.get("points")!r}')
        for p in pts:
            _check_xy(name, p, w, h)
    else:
        mask = np.asarray(region.get('mask'))
        if mask.ndim != 2 or tuple(mask.shape) != (h, w):
            raise PromptError(f'{name}: a mask must be [H, W] = {h}x{w} (the image\'s size), got shape {mask.shape}')
        if not mask.any():
            raise PromptError(f'{name}: the mask is empty')


def rasterize_regions(regions: Sequence[dict], ori_shape: Tuple[int, int], img_shape: Tuple[int, int],
                      max_regions: Optional[int] = None) -> np.ndarray:
    """Region prompts in original coordinates -> bool masks [R, h, w] at ``img_shape`` (the resized image).

    Boxes fill their rectangle, clicks a disk each (:func:`point_radius` of the resized image), scribbles their
    polyline drawn that thick, masks are resized (nearest). Every region is checked first
    (:func:`check_region`); more than ``max_regions`` regions is a PromptError.
    """
    if max_regions is not None and len(regions) > max_regions:
        raise PromptError(f'{len(regions)} regions given; this model takes at most {max_regions} per image '
                          f'(region {max_regions + 1} onwards do not fit)')
    oh, ow = ori_shape
    h, w = img_shape
    sx, sy = w / ow, h / oh
    r = point_radius(img_shape)
    out = np.zeros((len(regions), h, w), np.uint8)
    for i, reg in enumerate(regions):
        check_region(i, reg, ori_shape)
        kind, m = reg['kind'], out[i]
        if kind == 'box':
            x0, y0, x1, y1 = np.asarray(reg['box'], np.float64) * (sx, sy, sx, sy)
            c0, r0 = int(np.clip(np.floor(x0), 0, w - 1)), int(np.clip(np.floor(y0), 0, h - 1))
            c1, r1 = int(np.clip(np.ceil(x1), c0 + 1, w)), int(np.clip(np.ceil(y1), r0 + 1, h))
            m[r0:r1, c0:c1] = 1
        elif kind == 'point':
            for x, y in (reg['points'] if 'points' in reg else [reg['point']]):
                cv2.circle(m, (int(round(x * sx)), int(round(y * sy))), r, 1, -1)
        elif kind == 'scribble':
            pts = np.round(np.asarray(reg['points'], np.float64) * (sx, sy)).astype(np.int32)
            cv2.polylines(m, [pts.reshape(-1, 1, 2)], False, 1, thickness=r)
            for x, y in pts:
                cv2.circle(m, (int(x), int(y)), max(1, r // 2), 1, -1)
        else:
            m[:] = cv2.resize(np.asarray(reg['mask'], np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
            if not m.any():  # a mask thinner than one resized pixel: keep its pixels' nearest cells
                ys, xs = np.nonzero(np.asarray(reg['mask']))
                m[np.clip((ys * sy).astype(int), 0, h - 1), np.clip((xs * sx).astype(int), 0, w - 1)] = 1
    return out.astype(bool)


def region_summary(region: dict) -> dict:
    """A JSON-able description of a region for metainfo and drawings (a mask becomes its bounding box)."""
    if region['kind'] != 'mask':
        return {k: np.asarray(v).tolist() if k != 'kind' else v for k, v in region.items()}
    ys, xs = np.nonzero(np.asarray(region['mask']))
    return dict(kind='mask', box=[float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)])


# ---- region prompts derived from instance masks (the embedded data's region samples) --------------------
def interior_point(mask: np.ndarray) -> Tuple[float, float]:
    """The pixel of ``mask`` [H, W] farthest from its boundary (the usual first click; among equally far
    ones, the one nearest the mask's centroid), as (x, y) at the pixel's centre."""
    dist = cv2.distanceTransform(np.pad(mask.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    ys, xs = np.nonzero(dist >= dist.max() - 0.5)
    cy, cx = np.nonzero(mask)
    k = int(np.argmin((ys - cy.mean()) ** 2 + (xs - cx.mean()) ** 2))
    return float(xs[k]) + 0.5, float(ys[k]) + 0.5


def region_from_mask(mask: np.ndarray, kind: str, rng: Optional[np.random.RandomState] = None,
                     box: Optional[Sequence[float]] = None) -> dict:
    """A region prompt of ``kind`` for the object ``mask`` [H, W] (coordinates of that mask) whose box is ``box``
    (x0, y0, x1, y1; default: the mask's tight box). With ``rng`` (training): a jittered box, 1-3 random clicks
    on the object, a random scribble; without: the box, the interior point farthest from the boundary, a scribble
    through it."""
    ys, xs = np.nonzero(mask)
    box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1] if box is None else box, np.float64)
    if kind == 'mask':
        return dict(kind='mask', mask=mask.astype(bool))
    if kind == 'box':
        if rng is not None:
            wh = np.tile(box[2:] - box[:2], 2)
            box = box + rng.uniform(-0.1, 0.1, 4) * wh
            box[2:] = np.maximum(box[2:], box[:2] + 1)
        h, w = mask.shape
        return dict(kind='box', box=np.clip(box, 0, [w, h, w, h]).tolist())
    centre = interior_point(mask)
    if kind == 'point':
        if rng is None:
            return dict(kind='point', point=list(centre))
        ks = rng.choice(len(xs), rng.randint(1, 4))
        return dict(kind='point', points=[[float(xs[k]) + 0.5, float(ys[k]) + 0.5] for k in ks])
    n = 3 if rng is None else rng.randint(2, 5)
    pick = np.linspace(0, len(xs) - 1, n).astype(int) if rng is None else rng.choice(len(xs), n)
    pts = [list(centre)] + [[float(xs[k]) + 0.5, float(ys[k]) + 0.5] for k in pick[1:]]
    return dict(kind='scribble', points=pts)


@TRANSFORMS.register_module()
class BuildRegionConversation(BaseTransform):
    """A visual-prompt sample from an image's instances (after ``LoadDetAnnotations`` with masks and the
    resize): one region drawn from an object's mask, the task's conversation and its targets.

    Tasks: ``region-caption`` (the answer is the object's name), ``interactive-seg`` (the target is that
    object: label 0), ``detect-by-example`` (the region is one object of a category; the targets are every
    object of that category in the image). Training picks the object (category) and the region kind at
    random; test uses the dataset's choice (``region_instance``: index of the object in the image's
    instances; ``region_kind``).

    Writes ``region_prompts`` (original coordinates; what a user would give), ``region_masks`` [R, h, w] at the
    resized image, ``class_names`` (the object's category: the name the metrics score against),
    ``region_names``, ``messages``, ``task``.

    Args:
        task: ``region-caption``, ``interactive-seg`` or ``detect-by-example``.
        kinds: region kinds drawn in training (weights ``kind_weights``).
        test_mode: deterministic regions (tight box, farthest-from-boundary click ...).
    """
    TASKS = ('region-caption', 'interactive-seg', 'detect-by-example')

    def __init__(self, task: str, kinds: Sequence[str] = REGION_KINDS, kind_weights: Optional[Sequence[float]] = None,
                 test_mode: bool = False):
        if task not in self.TASKS:
            raise ValueError(f'BuildRegionConversation: task must be one of {self.TASKS}, got {task!r}')
        bad = [k for k in kinds if k not in REGION_KINDS]
        if bad:
            raise ValueError(f'BuildRegionConversation: unknown region kinds {bad}; known: {REGION_KINDS}')
        self.task, self.kinds, self.test_mode = task, list(kinds), test_mode
        w = np.ones(len(self.kinds)) if kind_weights is None else np.asarray(kind_weights, np.float64)
        self.kind_p = w / w.sum()

    def transform(self, results: dict) -> dict:
        src = results.get('img_path', '?')
        masks = results['gt_masks'].to_ndarray().astype(bool) if 'gt_masks' in results else None
        if masks is None:
            raise BadSampleError(src, 'gt_masks', 'region samples need instance masks (LoadDetAnnotations with_mask)')
        ok = masks.reshape(len(masks), -1).any(1) & ~np.asarray(results.get('gt_ignore_flags', np.zeros(len(masks))),
                                                                bool)
        labels = np.asarray(results['gt_bboxes_labels'])
        names = list(results['dataset_classes'])
        rng = None if self.test_mode else np.random
        boxes = results['gt_bboxes']
        boxes = np.asarray(boxes.tensor if hasattr(boxes, 'tensor') else boxes, np.float64)
        if 'region_instance' in results:
            obj = int(results['region_instance'])
            if not ok[obj]:  # an object smaller than a pixel of the resized image: the pixel at its box's centre
                h, w = masks.shape[1:]
                cx, cy = (boxes[obj, :2] + boxes[obj, 2:]) / 2
                masks[obj, min(int(cy), h - 1), min(int(cx), w - 1)] = True
                ok[obj] = True
        elif ok.any():
            obj = int(np.random.choice(np.nonzero(ok)[0]))
        else:
            raise BadSampleError(src, 'gt_masks', 'no instance with a mask to draw a region from')
        kind = results.get('region_kind') or str(np.random.choice(self.kinds, p=self.kind_p))
        region = region_from_mask(masks[obj], kind, rng, boxes[obj])  # a box prompt is the annotated box
        h, w = masks.shape[1:]
        results['region_masks'] = rasterize_regions([region], (h, w), (h, w))
        sf = np.asarray(results.get('scale_factor', (1.0, 1.0)), np.float64)
        results['region_prompts'] = [_unscaled(region_summary(region), sf)]
        name = names[labels[obj]]
        results.update(task=self.task, class_names=[name], region_names=[name], answer_mode='prompted')
        if self.task == 'region-caption':
            conv = prompts.region_caption_conversation([name])
            # test: the model writes the name (free generation)
            results.update(messages=conv[:1] if self.test_mode else conv, gt_answer=name,
                           answer_mode='free' if self.test_mode else 'prompted')
        elif self.task == 'interactive-seg':
            keep = np.zeros(len(masks), bool)
            keep[obj] = True
            _keep(results, keep)
            results['gt_bboxes_labels'] = np.zeros(1, np.int64)
            results['messages'] = prompts.interactive_seg_conversation(1)
        else:
            keep = ok & (labels == labels[obj])
            _keep(results, keep)
            results['gt_bboxes_labels'] = np.zeros(int(keep.sum()), np.int64)
            results['messages'] = prompts.detect_by_example_conversation(1)
        return results


def _unscaled(summary: dict, sf: np.ndarray) -> dict:
    """A region summary in resized coordinates -> original coordinates (``scale_factor`` (sx, sy))."""
    out = dict(summary)
    if 'box' in out:
        out['box'] = (np.asarray(out['box']) / np.tile(sf, 2)).tolist()
    if 'point' in out:
        out['point'] = (np.asarray(out['point']) / sf).tolist()
    if 'points' in out:
        out['points'] = (np.asarray(out['points']) / sf).tolist()
    return out


def regions_of(results: dict, max_regions: Optional[int] = None) -> List[np.ndarray]:
    """``region_masks`` of a pipeline's results, rasterized from ``region_prompts`` (original coordinates)
    when the pipeline did not set them."""
    if 'region_masks' not in results:
        results['region_masks'] = rasterize_regions(results['region_prompts'], tuple(results['ori_shape']),
                                                    tuple(results['img_shape']), max_regions)
        results['region_prompts'] = [region_summary(r) for r in results['region_prompts']]
    return results['region_masks']
