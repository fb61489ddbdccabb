"""Drawing of visual prompts: each region's box, click or scribble, numbered, over the picture."""
import cv2
import numpy as np

from visionllm.registry import FUNCTIONS

PROMPT_COLOUR = (255, 64, 255)


@FUNCTIONS.register_module()
def draw_region_prompts(visualizer, image: np.ndarray, sample) -> np.ndarray:
    """The sample's ``region_prompts`` (in its ``ori_shape`` frame) drawn on ``image`` RGB [H, W, 3]: a dashed-
    looking double rectangle for boxes (and masks' bounding boxes), a ringed dot for clicks, a polyline for
    scribbles, each labelled ``k`` (region k)."""
    regions = sample.metainfo.get('region_prompts') or []
    oh, ow = sample.metainfo.get('ori_shape', image.shape[:2])
    sx, sy = image.shape[1] / ow, image.shape[0] / oh
    out = np.ascontiguousarray(image.copy())
    t = max(1, round(min(image.shape[:2]) / 200))
    for k, r in enumerate(regions):
        if 'box' in r:
            x0, y0, x1, y1 = (np.asarray(r['box']) * (sx, sy, sx, sy)).round().astype(int)
            cv2.rectangle(out, (x0, y0), (x1, y1), (0, 0, 0), t + 2)
            cv2.rectangle(out, (x0, y0), (x1, y1), PROMPT_COLOUR, t)
            anchor = (x0 + 2, max(y0 - 3, 10 * t))
        elif r.get('kind') == 'point':
            for x, y in (np.asarray(r['points'] if 'points' in r else [r['point']]) * (sx, sy)).round().astype(int):
                cv2.circle(out, (x, y), 4 * t, (0, 0, 0), -1)
                cv2.circle(out, (x, y), 3 * t, PROMPT_COLOUR, -1)
            anchor = (int(x) + 5 * t, int(y) - 5 * t)
        else:
            pts = (np.asarray(r['points']) * (sx, sy)).round().astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(out, [pts], False, (0, 0, 0), t + 2)
            cv2.polylines(out, [pts], False, PROMPT_COLOUR, t)
            anchor = tuple(int(v) for v in pts[0, 0])
        cv2.putText(out, str(k + 1), anchor, cv2.FONT_HERSHEY_SIMPLEX, 0.4 * t, PROMPT_COLOUR, t, cv2.LINE_AA)
    return out
