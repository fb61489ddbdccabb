"""One visualizer for every task: boxes, masks and labels (mmdet's drawing), answers as text."""
from typing import Optional

import numpy as np
from mmdet.visualization import DetLocalVisualizer

from visionllm.registry import VISUALIZERS


@VISUALIZERS.register_module()
class VisionLLMVisualizer(DetLocalVisualizer):
    """Draw a VisionLLMDataSample: instances are labelled with their prompted names (each sample has
    its own class list), text answers are written in the top-left corner."""

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None, draw_gt: bool = False,
                       draw_pred: bool = True, show: bool = False, wait_time: float = 0,
                       out_file: Optional[str] = None, pred_score_thr: float = 0.3, step: int = 0) -> None:
        names = None
        if data_sample is not None and 'pred_instances' in data_sample:
            pred = data_sample.pred_instances
            names = list(pred.label_names) if 'label_names' in pred else None
            if names is not None:  # relabel by name so colours are stable per name
                uniq = list(dict.fromkeys(names))
                pred.labels = pred.labels.new_tensor([uniq.index(n) for n in names])
                names = uniq
        names = names or list(data_sample.get('class_names') or []) if data_sample is not None else []
        self.dataset_meta = dict(classes=tuple(names) or ('object', ), palette='random')
        text = data_sample.get('pred_text') if data_sample is not None else None
        if data_sample is not None and 'pred_instances' in data_sample:
            super().add_datasample(name, image, data_sample, draw_gt=draw_gt, draw_pred=draw_pred, show=False,
                                   out_file=None, pred_score_thr=pred_score_thr, step=step)
            drawn = self.get_image()
        else:
            drawn = image
        if text:
            self.set_image(drawn)
            self.draw_texts(text[:120], np.array([2, 2]), colors='white', font_sizes=8,
                            bboxes=[dict(facecolor='black', alpha=0.6, pad=1, edgecolor='none')])
            drawn = self.get_image()
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            import mmcv
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)
