import numpy as np
import pytest

from visionllm.datasets.transforms.tiling import closest_grid, target_grids, tile_image


@pytest.mark.parametrize('w,h,max_num,grid', [
    (448, 448, 6, (1, 1)),      # square
    (896, 448, 6, (2, 1)),      # wide 2:1
    (448, 1344, 6, (1, 3)),     # tall 1:3
    (1000, 100, 6, (6, 1)),     # very wide, capped by max_num
    (448, 448, 1, (1, 1)),
])
def test_grid_choice(w, h, max_num, grid):
    assert closest_grid(w, h, 448, target_grids(1, max_num)) == grid


def test_tie_rule_prefers_larger_grid_only_for_large_images():
    # aspect 1.0 ties between (1,1), (2,2): the later grid wins only if area > 0.5 * its pixel area
    grids = target_grids(1, 4)
    assert closest_grid(448, 448, 448, grids) == (1, 1)      # 448^2 <= 0.5 * 4 * 448^2
    assert closest_grid(900, 900, 448, grids) == (2, 2)      # 900^2 > 0.5 * 4 * 448^2
    # aspect 1.25 is equidistant from 1.0 and 1.5 (3:2 needs >= 6 tiles) -> 2:2 vs 3:2 not both present;
    # 4:3 (1.333) vs 1:1 (1.0): no tie, 4:3 closer
    assert closest_grid(1250, 1000, 448, target_grids(1, 12)) == (4, 3)


def test_grid_order_and_bounds():
    grids = target_grids(2, 4)
    assert all(2 <= i * j <= 4 for i, j in grids)
    assert [i * j for i, j in grids] == sorted(i * j for i, j in grids)
    assert (1, 1) not in grids


@pytest.mark.parametrize('shape,max_num,count', [((32, 32), 4, 1), ((64, 64), 4, 5), ((64, 128), 4, 3),
                                                 ((200, 60), 6, 4), ((64, 128), 1, 1)])
def test_tile_counts_and_thumbnail(shape, max_num, count):
    img = np.random.default_rng(0).integers(0, 255, (*shape, 3), dtype=np.uint8)
    tiles = tile_image(img, 32, 1, max_num, use_thumbnail=True)
    assert tiles.shape == (count, 32, 32, 3)
    no_thumb = tile_image(img, 32, 1, max_num, use_thumbnail=False)
    assert len(no_thumb) == (count - 1 if count > 1 else 1)
