"""One visualizer for every task: boxes and instance masks (mmdet's drawing) labelled with the prompted
names, semantic maps as a colour overlay with a legend, keypoints with their skeleton, generated /
edited images next to the input, and text answers."""
from typing import List, Optional, Sequence

import numpy as np
from mmdet.visualization import DetLocalVisualizer

from visionllm.registry import VISUALIZERS


def palette(n: int, seed: int = 3) -> np.ndarray:
    """n distinct-ish RGB colours [n, 3] uint8 (deterministic)."""
    rng = np.random.default_rng(seed)
    return rng.integers(40, 255, (max(n, 1), 3)).astype(np.uint8)


@VISUALIZERS.register_module()
class VisionLLMVisualizer(DetLocalVisualizer):
    """Draw a VisionLLMDataSample's predictions (see module docstring)."""

    def __init__(self, name: str = 'visualizer', *args, min_draw_size: int = 512, **kwargs):
        super().__init__(name, *args, **kwargs)
        self.min_draw_size = min_draw_size

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None, draw_gt: bool = False,
                       draw_pred: bool = True, show: bool = False, wait_time: float = 0,
                       out_file: Optional[str] = None, pred_score_thr: float = 0.3, step: int = 0) -> None:
        """Draw on ``image`` (the predictions' coordinate frame); images whose longer side is under
        ``min_draw_size`` are enlarged for drawing, so labels stay legible."""
        s = data_sample
        scale = self.min_draw_size / max(image.shape[:2]) if self.min_draw_size else 1.0
        if scale > 1 and s is not None:
            image, s = _scaled(image, s, scale)
        drawn = image
        if s is not None and 'pred_instances' in s and 'bboxes' in s.pred_instances:
            drawn = self._instances(image, s, pred_score_thr)
        if s is not None and 'pred_sem_seg' in s:
            drawn = self._sem_seg(drawn, s.pred_sem_seg.data[0].cpu().numpy(),
                                  list(s.get('pred_class_names') or s.get('class_names') or []))
        if s is not None and 'pred_image' in s:
            gen = s.pred_image.cpu().numpy().transpose(1, 2, 0)
            drawn = self._side_by_side(drawn if s.get('task') == 'edit' else None, gen)
        drawn = self._task_drawing(drawn, s)
        if self.min_draw_size and max(drawn.shape[:2]) < self.min_draw_size:  # e.g. a small generated image
            import cv2
            k = self.min_draw_size / max(drawn.shape[:2])
            drawn = cv2.resize(drawn, (round(drawn.shape[1] * k), round(drawn.shape[0] * k)),
                               interpolation=cv2.INTER_LINEAR)
        text = s.get('pred_text') if s is not None else None
        if text:
            self.set_image(drawn)
            self.draw_texts(text[:120], np.array([2, drawn.shape[0] - 2]), colors='white',
                            font_sizes=self._font(drawn), vertical_alignments='bottom',
                            bboxes=[dict(facecolor='black', alpha=0.6, pad=1, edgecolor='none')])
            drawn = self.get_image()
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            import mmcv
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)

    def _task_drawing(self, image: np.ndarray, s) -> np.ndarray:
        """The drawing function the sample's task spec names (``TaskSpec.draw``), if any."""
        from visionllm.registry import FUNCTIONS
        from visionllm.structures.tasks import task_specs
        spec = task_specs().get(s.get('task')) if s is not None else None
        if spec is None or not spec.draw or not all(f in s for f in spec.pred_fields):
            return image  # (a free answer that did not route has no prediction to draw)
        draw = FUNCTIONS.get(spec.draw)
        if draw is None:
            from visionllm.utils.errors import ConfigError
            raise ConfigError(f'task {spec.name!r}: drawing function {spec.draw!r} is not registered in FUNCTIONS')
        return draw(self, image, s)

    @staticmethod
    def _font(image: np.ndarray) -> int:
        return int(np.clip(max(image.shape[:2]) / 40, 7, 16))

    def _instances(self, image, s, thr) -> np.ndarray:
        """Boxes, mask outlines over a light fill, labels inside the frame, a legend; keypoints."""
        pred = s.pred_instances
        pred = pred[pred.scores > thr] if 'scores' in pred else pred
        names = list(pred.label_names) if 'label_names' in pred else \
            [str((s.get('class_names') or ['object'] * (int(k) + 1))[int(k)]) for k in pred.labels]
        legend = list(dict.fromkeys(names))
        colours = palette(len(legend))
        drawn = self._draw_objects(image, pred, [legend.index(n) for n in names], colours)
        drawn = self._legend(drawn, legend, colours, [names.count(n) for n in legend])
        pose = s.pred_pose if 'pred_pose' in s else (s.pred_instances if 'keypoints' in s.pred_instances else None)
        if pose is not None and 'keypoints' in pose:
            keep = (pose.scores > thr).cpu().numpy()
            drawn = self._keypoints(drawn, pose.keypoints.cpu().numpy()[keep], list(s.get('pred_keypoint_names') or []),
                                    s.get('skeleton') or [])
        return drawn

    def _draw_objects(self, image: np.ndarray, pred, idx: List[int], colours: np.ndarray) -> np.ndarray:
        from mmdet.structures.mask import bitmap_to_polygon
        self.set_image(image)
        H, W = image.shape[:2]
        cols = [tuple(int(c) for c in colours[k]) for k in idx]
        if 'masks' in pred and len(pred):
            masks = pred.masks.cpu().numpy().astype(bool)
            self.draw_binary_masks(masks, colors=cols, alphas=0.25)
            for m, c in zip(masks, cols):
                contours, _ = bitmap_to_polygon(m)
                if contours:
                    self.draw_polygons([p for p in contours if len(p) > 2], edge_colors=[c] * len(contours),
                                       line_widths=max(1, W // 400 + 1))
        if not len(pred):
            return self.get_image()
        boxes = pred.bboxes.cpu().numpy()
        self.draw_bboxes(boxes, edge_colors=cols, line_widths=max(1, W // 300 + 1))
        font = self._font(image)
        order = np.argsort(pred.scores.cpu().numpy(), kind='stable') if 'scores' in pred else range(len(boxes))
        for b in order:  # the most confident label is drawn last, on top
            box, c = boxes[b], cols[b]
            label = f'{pred.label_names[b] if "label_names" in pred else idx[b]}'
            if 'scores' in pred:
                label += f' {float(pred.scores[b]):.2f}'
            w, h = 0.8 * font * len(label) + 4, 1.5 * font  # the label's size in pixels, approximately
            x = float(np.clip(box[0], 0, max(0, W - w)))
            y = float(box[1] - h) if box[1] - h >= 0 else float(np.clip(box[1], 0, max(0, H - h)))
            self.draw_texts(label, np.array([x + 2, y + 1]), colors='white', font_sizes=font,
                            bboxes=[dict(facecolor=tuple(v / 255 for v in c), alpha=0.85, pad=1.5,
                                         edgecolor='none')])
        return self.get_image()

    def _legend(self, image: np.ndarray, names: List[str], colours: np.ndarray, counts: List[int]) -> np.ndarray:
        """Names with their colour and count, bottom left, inside the frame."""
        if not names:
            return image
        self.set_image(image)
        font = self._font(image)
        H = image.shape[0]
        for row, (n, c, k) in enumerate(zip(names[::-1], colours[:len(names)][::-1], counts[::-1])):
            y = H - 4 - (row + 1) * 1.6 * font
            col = tuple(int(v) for v in c)
            self.draw_bboxes(np.array([[4, y, 4 + font, y + font]]), edge_colors=[col], face_colors=[col], alpha=1.0)
            self.draw_texts(f'{n} x{k}', np.array([4 + 1.4 * font, y - 0.1 * font]), colors='white',
                            font_sizes=font, bboxes=[dict(facecolor='black', alpha=0.55, pad=1, edgecolor='none')])
        return self.get_image()

    def _sem_seg(self, image: np.ndarray, seg: np.ndarray, names: List[str], alpha: float = 0.5) -> np.ndarray:
        """Blend each class's colour over its pixels and draw a legend of the classes present."""
        colours = palette(len(names))
        out = image.astype(np.float32).copy()
        present = [k for k in np.unique(seg) if 0 <= k < len(names)]
        for k in present:
            out[seg == k] = out[seg == k] * (1 - alpha) + colours[k] * alpha
        self.set_image(out.astype(np.uint8))
        font = self._font(image)
        for row, k in enumerate(present):
            y = 4 + row * 1.6 * font
            col = tuple(int(c) for c in colours[k])
            self.draw_bboxes(np.array([[4, y, 4 + font, y + font]]), edge_colors=[col], face_colors=[col], alpha=1.0)
            self.draw_texts(names[k], np.array([4 + 1.4 * font, y - 0.1 * font]), colors='white', font_sizes=font,
                            bboxes=[dict(facecolor='black', alpha=0.5, pad=1, edgecolor='none')])
        return self.get_image()

    def _keypoints(self, image: np.ndarray, kps: np.ndarray, names: List[str],
                   skeleton: Sequence[Sequence[str]]) -> np.ndarray:
        """Points [N, K, 2] and the skeleton's lines between named points."""
        self.set_image(image)
        for inst in kps:
            for a, b in skeleton:
                if a in names and b in names:
                    p, q = inst[names.index(a)], inst[names.index(b)]
                    self.draw_lines(np.array([p[0], q[0]]), np.array([p[1], q[1]]), colors='yellow', line_widths=1)
            if len(inst):
                self.draw_points(inst, colors='red', sizes=np.full(len(inst), 8))
        return self.get_image()

    @staticmethod
    def _side_by_side(left: Optional[np.ndarray], right: np.ndarray) -> np.ndarray:
        import cv2
        if left is None:
            return right
        h = max(left.shape[0], right.shape[0])
        scale = lambda im: cv2.resize(im, (int(im.shape[1] * h / im.shape[0]), h))  # noqa: E731
        return np.concatenate([scale(left), scale(right)], 1)


def _scaled(image: np.ndarray, sample, scale: float):
    """The image and a copy of the sample's predictions enlarged by ``scale`` (boxes, masks, keypoints,
    label maps), for drawing."""
    import cv2
    import torch.nn.functional as F
    h, w = image.shape[:2]
    H, W = int(round(h * scale)), int(round(w * scale))
    big = cv2.resize(image, (W, H), interpolation=cv2.INTER_LINEAR)
    s = sample.clone()
    sx, sy = W / w, H / h

    def grow(inst):
        inst = inst.clone()
        if 'bboxes' in inst:
            inst.bboxes = inst.bboxes * inst.bboxes.new_tensor([sx, sy, sx, sy])
        if 'masks' in inst and len(inst):
            m = inst.masks
            inst.masks = F.interpolate(m[None].float(), size=(H, W), mode='nearest')[0].to(m.dtype)
        if 'keypoints' in inst:
            inst.keypoints = inst.keypoints * inst.keypoints.new_tensor([sx, sy])
        return inst

    for key in ('pred_instances', 'pred_pose'):
        if key in s:
            setattr(s, key, grow(getattr(s, key)))
    if 'pred_sem_seg' in s:
        from mmengine.structures import PixelData
        seg = s.pred_sem_seg.data
        s.pred_sem_seg = PixelData(data=F.interpolate(seg[None].float(), size=(H, W), mode='nearest')[0].to(seg.dtype))
    return big, s
