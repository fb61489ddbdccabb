"""The embedded data's vocabulary: colours x shapes, held-out names, keypoints, templates."""
from itertools import product
from typing import Dict, List, Tuple

COLOURS: Dict[str, Tuple[int, int, int]] = {  # RGB
    'red': (215, 40, 40),
    'green': (40, 165, 60),
    'blue': (45, 85, 225),
    'yellow': (235, 210, 35),
    'purple': (145, 60, 190),
    'orange': (245, 135, 25),
}
SHAPES: List[str] = ['circle', 'square', 'triangle', 'star', 'cross']
# Never drawn nor named in the training split: every colour and every shape stays seen elsewhere,
# so transfer to these names measures composition of seen words.
HELD_OUT: List[str] = ['purple star', 'orange circle', 'green triangle', 'blue cross', 'yellow square']
KEYPOINTS: List[str] = ['top', 'bottom', 'left', 'right', 'center']
SKELETON: List[Tuple[str, str]] = [('center', 'top'), ('center', 'bottom'), ('center', 'left'),
                                   ('center', 'right')]
KEYPOINT_SIGMAS: List[float] = [0.05, 0.05, 0.05, 0.05, 0.04]


def all_categories() -> List[str]:
    """All ``'colour shape'`` names, colour-major order (category id = index + 1)."""
    return [f'{c} {s}' for c, s in product(COLOURS, SHAPES)]


def seen_categories() -> List[str]:
    return [n for n in all_categories() if n not in HELD_OUT]


def plural(shape: str) -> str:
    return shape + ('es' if shape.endswith('s') else 's')


NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']
