"""Silence the lines that dependencies print on every run and that say nothing to a user.

- onedl-mmdetection / -mmsegmentation ``print`` "Could not import OneDL ..." at import (a DEBUG message
  that mmengine's ``print_log`` prints without a logger);
- DeepSpeed logs "Setting accelerator to CPU ..." at import when it finds no GPU (``DS_ACCELERATOR=cpu``
  is set in that case, unless the user set it);
- torch / mmcv warnings raised inside mmdet's DETR layers on every forward, and mmengine's visualizer
  warning about labels drawn near the border.

Only these exact messages are dropped; everything else still reaches the user.
"""
import contextlib
import io
import os
import re
import sys
import warnings
from typing import Iterator, Sequence

PRINTED_NOISE = (re.compile(r'^Could not import OneDL'), )
WARNING_NOISE = (
    r'torch\.meshgrid: in an upcoming release, it will be required to pass the indexing argument',
    r'position encoding of key is\s*missing in MultiheadAttention',
    r'faster_coco_eval is not installed',
    r'Warning: The (bbox|polygon|text) is out of bounds',  # mmengine's visualizer, labels near the border
)


@contextlib.contextmanager
def filtered_stdout(patterns: Sequence[re.Pattern] = PRINTED_NOISE) -> Iterator[None]:
    """Capture stdout inside the block and re-print every line that matches none of ``patterns``."""
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            yield
    finally:
        kept = [ln for ln in buf.getvalue().splitlines(keepends=True)
                if not any(p.search(ln) for p in patterns)]
        sys.stdout.write(''.join(kept))


def quiet_deepspeed_detection() -> None:
    """``DS_ACCELERATOR=cpu`` when torch sees no GPU (call before anything imports deepspeed)."""
    if 'DS_ACCELERATOR' not in os.environ:
        import torch
        if not torch.cuda.is_available():
            os.environ['DS_ACCELERATOR'] = 'cpu'


def silence_library_noise() -> None:
    """Install the filters above and import the modules that print at import time through them (after
    mmcv's ops are in place: mmdet and mmseg import mmcv.ops)."""
    for message in WARNING_NOISE:
        warnings.filterwarnings('ignore', message=message)
    with filtered_stdout():
        import mmdet.datasets  # noqa: F401
        import mmseg.datasets  # noqa: F401
