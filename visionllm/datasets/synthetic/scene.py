"""Render one synthetic scene: textured background, clutter, overlapping coloured shapes.

Everything is a pure function of a numpy ``Generator`` so a scene is reproducible from its seed.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

import cv2
import numpy as np

from .vocabulary import COLOURS, KEYPOINTS, SHAPES


@dataclass
class SceneObject:
    """One drawn object. ``mask`` is the visible (after occlusion) HxW uint8 mask."""
    colour: str
    shape: str
    polygon: np.ndarray  # [N, 2] float, full (unoccluded) outline
    center: np.ndarray  # [2]
    radius: float
    mask: Optional[np.ndarray] = None
    rgb: Optional[np.ndarray] = None  # jittered fill colour

    @property
    def name(self) -> str:
        return f'{self.colour} {self.shape}'

    def bbox_xyxy(self) -> List[float]:
        ys, xs = np.nonzero(self.mask)
        return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]

    def keypoints(self) -> np.ndarray:
        """[K, 3] (x, y, visibility) for KEYPOINTS; v=2 visible, 1 occluded."""
        p = self.polygon
        pts = [p[p[:, 1].argmin()], p[p[:, 1].argmax()], p[p[:, 0].argmin()], p[p[:, 0].argmax()],
               self.center]
        out = np.zeros((len(KEYPOINTS), 3), np.float32)
        h, w = self.mask.shape
        for i, (x, y) in enumerate(pts):
            xi, yi = int(np.clip(round(x), 0, w - 1)), int(np.clip(round(y), 0, h - 1))
            out[i] = (x, y, 2 if self.mask[yi, xi] else 1)
        return out


def shape_polygon(shape: str, cx: float, cy: float, r: float, theta: float) -> np.ndarray:
    """Outline of ``shape`` centred at (cx, cy) with circumradius r, rotated by theta: [N, 2]."""
    if shape == 'circle':
        ang = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        rad = np.full_like(ang, r)
    elif shape == 'square':
        ang = np.pi / 4 + np.arange(4) * np.pi / 2
        rad = np.full(4, r)
    elif shape == 'triangle':
        ang = -np.pi / 2 + np.arange(3) * 2 * np.pi / 3
        rad = np.full(3, r)
    elif shape == 'star':
        ang = -np.pi / 2 + np.arange(10) * np.pi / 5
        rad = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
    elif shape == 'cross':
        a, b = r, 0.35 * r
        xy = np.array([(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b),
                       (-a, b), (-a, -b), (-b, -b)]) / np.sqrt(2) * 1.3
        ang, rad = np.arctan2(xy[:, 1], xy[:, 0]), np.hypot(xy[:, 0], xy[:, 1])
    else:
        raise ValueError(f'unknown shape {shape!r}; expected one of {SHAPES}')
    ang = ang + (0.0 if shape == 'circle' else theta)
    return np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1).astype(np.float32)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    base = rng.uniform(80, 170) + rng.uniform(-25, 25, 3)  # gray with a tint
    grad = rng.uniform(-35, 35, 3)
    t = np.linspace(0, 1, size)[None, :, None]
    axis = rng.integers(2)
    img = base + grad * (t if axis == 0 else t.transpose(1, 0, 2))
    img = np.broadcast_to(img, (size, size, 3)).copy()
    img += rng.normal(0, 6, img.shape)
    return img


def _clutter(rng: np.random.Generator, img: np.ndarray, n: int) -> None:
    """Gray lines and small blobs that belong to no category."""
    size = img.shape[0]
    for _ in range(n):
        g = float(rng.uniform(40, 220))
        col = (g, g, g)
        if rng.random() < 0.5:
            p1, p2 = rng.integers(0, size, 2), rng.integers(0, size, 2)
            cv2.line(img, tuple(int(v) for v in p1), tuple(int(v) for v in p2), col, 1)
        else:
            c = rng.integers(0, size, 2)
            cv2.circle(img, tuple(int(v) for v in c), int(rng.integers(1, 4)), col, -1)


def layout_objects(rng: np.random.Generator, size: int, categories: Sequence[str],
                   num_objects: Sequence[int] = (1, 5), min_visible: float = 0.4,
                   radius_frac: Sequence[float] = (0.09, 0.2), tries: int = 8) -> List[SceneObject]:
    """Place objects (in drawing order) and compute their visible masks.

    Later objects occlude earlier ones; a placement that would leave an earlier object less than
    ``min_visible`` of its area visible is re-drawn (``tries`` times, then dropped), so every drawn
    object is annotated and every annotation is visible.
    """
    n = int(rng.integers(num_objects[0], num_objects[1] + 1))
    objs: List[SceneObject] = []
    areas: List[int] = []
    for _ in range(n):
        colour, shape = categories[int(rng.integers(len(categories)))].split(' ')
        for _ in range(tries):
            r = float(rng.uniform(*radius_frac)) * size
            cx, cy = rng.uniform(r + 1, size - r - 1, 2)
            poly = shape_polygon(shape, cx, cy, r, float(rng.uniform(0, 2 * np.pi)))
            m = polygon_mask(poly, size)
            if m.sum() >= 16 and all(((o.mask > 0) & (m == 0)).sum() >= min_visible * a
                                     for o, a in zip(objs, areas)):
                break
        else:
            continue
        for o in objs:
            o.mask = o.mask * (1 - m)
        objs.append(SceneObject(colour, shape, poly, np.array([cx, cy], np.float32), r, m,
                                jitter_colour(rng, colour)))
        areas.append(int(m.sum()))
    return objs


def polygon_mask(poly: np.ndarray, size: int) -> np.ndarray:
    m = np.zeros((size, size), np.uint8)
    cv2.fillPoly(m, [np.round(poly).astype(np.int32)], 1)
    return m


def jitter_colour(rng: np.random.Generator, colour: str) -> np.ndarray:
    rgb = np.array(COLOURS[colour], np.float32) + rng.normal(0, 12, 3)
    return np.clip(rgb * rng.uniform(0.85, 1.1), 0, 255)


def draw_objects(img: np.ndarray, objs: Sequence[SceneObject], rng: np.random.Generator) -> np.ndarray:
    """Paint objects in order onto a float RGB image; returns uint8 RGB."""
    img = img.copy()
    for o in objs:
        m = polygon_mask(o.polygon, img.shape[0]).astype(bool)
        img[m] = o.rgb + rng.normal(0, 4, (int(m.sum()), 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def render_scene(rng: np.random.Generator, size: int, categories: Sequence[str],
                 clutter: int = 6, **layout_kwargs):
    """Background + clutter + objects. Returns (uint8 RGB [size, size, 3], objects, background)."""
    bg = background(rng, size)
    _clutter(rng, bg, int(rng.integers(0, clutter + 1)))
    objs = layout_objects(rng, size, categories, **layout_kwargs)
    return draw_objects(bg, objs, rng), objs, bg
