"""Metrics (wrapping mmdet/mmseg/mmpose metrics where they exist)."""
from .detection_metric import OVCocoMetric
from .grounding_metric import GroundingAccuracy
from .routing_metric import RoutingAccuracy, parse_routes
from .text_metrics import CaptionObjectF1, VQAAccuracy, normalize_answer

__all__ = ['CaptionObjectF1', 'VQAAccuracy', 'normalize_answer', 'OVCocoMetric', 'GroundingAccuracy', 'RoutingAccuracy',
           'parse_routes']
