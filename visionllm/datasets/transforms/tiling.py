"""InternVL dynamic-resolution tiling: split an image into tiles matching its aspect ratio.

Same rule as InternVL's ``dynamic_preprocess``: candidate grids (i, j) with min_num <= i*j <= max_num,
the grid whose aspect ratio is closest to the image's wins; on a tie the later (larger) grid wins only
when the image area exceeds half of that grid's pixel area; a thumbnail (the whole image resized to
one tile) is appended when there is more than one tile.
"""
from typing import List, Tuple

import cv2
import numpy as np


def target_grids(min_num: int, max_num: int) -> List[Tuple[int, int]]:
    """Candidate (cols, rows) grids, ordered by tile count as InternVL orders them."""
    grids = set((i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1)
                for j in range(1, n + 1) if min_num <= i * j <= max_num)
    return sorted(grids, key=lambda g: g[0] * g[1])


def closest_grid(width: int, height: int, tile_size: int, grids: List[Tuple[int, int]]) -> Tuple[int, int]:
    """The (cols, rows) grid for an image of ``width`` x ``height``."""
    aspect = width / height
    best_diff, best = float('inf'), (1, 1)
    area = width * height
    for g in grids:
        diff = abs(aspect - g[0] / g[1])
        if diff < best_diff:
            best_diff, best = diff, g
        elif diff == best_diff and area > 0.5 * tile_size * tile_size * g[0] * g[1]:
            best = g
    return best


def tile_image(img: np.ndarray, tile_size: int, min_num: int = 1, max_num: int = 6,
               use_thumbnail: bool = True) -> np.ndarray:
    """Split an RGB uint8 image [H, W, 3] into tiles: returns [T, tile_size, tile_size, 3]."""
    h, w = img.shape[:2]
    cols, rows = closest_grid(w, h, tile_size, target_grids(min_num, max_num))
    resized = cv2.resize(img, (tile_size * cols, tile_size * rows), interpolation=cv2.INTER_CUBIC)
    tiles = [resized[r * tile_size:(r + 1) * tile_size, c * tile_size:(c + 1) * tile_size]
             for r in range(rows) for c in range(cols)]
    if use_thumbnail and len(tiles) != 1:
        tiles.append(cv2.resize(img, (tile_size, tile_size), interpolation=cv2.INTER_CUBIC))
    return np.stack(tiles)
