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

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None, draw_gt: bool = False,
                       draw_pred: bool = True, show: bool = False, wait_time: float = 0,
                       out_file: Optional[str] = None, pred_score_thr: float = 0.3, step: int = 0) -> None:
        s = data_sample
        drawn = image
        if s is not None and 'pred_instances' in s and 'bboxes' in s.pred_instances:
            drawn = self._instances(name, image, s, pred_score_thr, step)
        if s is not None and 'pred_sem_seg' in s:
            drawn = self._sem_seg(drawn, s.pred_sem_seg.data[0].cpu().numpy(),
                                  list(s.get('pred_class_names') or s.get('class_names') or []))
        if s is not None and 'pred_image' in s:
            gen = s.pred_image.cpu().numpy().transpose(1, 2, 0)
            drawn = self._side_by_side(drawn if s.get('task') == 'edit' else None, gen)
        text = s.get('pred_text') if s is not None else None
        if text:
            self.set_image(drawn)
            self.draw_texts(text[:120], np.array([2, 2]), colors='white', font_sizes=8,
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

    def _instances(self, name, image, s, thr, step) -> np.ndarray:
        pred = s.pred_instances
        names = list(pred.label_names) if 'label_names' in pred else None
        if names is not None:  # relabel by name so colours are stable per name
            uniq = list(dict.fromkeys(names))
            pred.labels = pred.labels.new_tensor([uniq.index(n) for n in names])
            names = uniq
        names = names or list(s.get('class_names') or [])
        self.dataset_meta = dict(classes=tuple(names) or ('object', ), palette='random')
        pose = s.pred_pose if 'pred_pose' in s else (pred if 'keypoints' in pred else None)
        super().add_datasample(name, image, s, draw_gt=False, draw_pred=True, show=False, out_file=None,
                               pred_score_thr=thr, step=step)
        drawn = self.get_image()
        if pose is not None and 'keypoints' in pose:
            keep = (pose.scores > thr).cpu().numpy()
            drawn = self._keypoints(drawn, pose.keypoints.cpu().numpy()[keep], list(s.get('pred_keypoint_names') or []),
                                    s.get('skeleton') or [])
        return drawn

    def _sem_seg(self, image: np.ndarray, seg: np.ndarray, names: List[str], alpha: float = 0.5) -> np.ndarray:
        """Blend each class's colour over its pixels and draw a legend of the classes present."""
        colours = palette(len(names))
        out = image.astype(np.float32).copy()
        present = [k for k in np.unique(seg) if 0 <= k < len(names)]
        for k in present:
            out[seg == k] = out[seg == k] * (1 - alpha) + colours[k] * alpha
        self.set_image(out.astype(np.uint8))
        for row, k in enumerate(present):
            y = 2 + 10 * row
            self.draw_bboxes(np.array([[2, y, 10, y + 8]]), edge_colors=[tuple(int(c) for c in colours[k])],
                             face_colors=[tuple(int(c) for c in colours[k])], alpha=1.0)
            self.draw_texts(names[k], np.array([12, y]), colors='white', font_sizes=7,
                            bboxes=[dict(facecolor='black', alpha=0.5, pad=0.5, edgecolor='none')])
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
