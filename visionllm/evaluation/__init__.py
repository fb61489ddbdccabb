"""Metrics (wrapping mmdet/mmseg/mmpose metrics where they exist)."""
from .text_metrics import CaptionObjectF1, VQAAccuracy, normalize_answer

__all__ = ['CaptionObjectF1', 'VQAAccuracy', 'normalize_answer']
