"""Metrics (wrapping mmdet/mmseg/mmpose metrics where they exist)."""
from .detection_metric import OVCocoMetric
from .generation_metrics import EditMetric, GenerationMetric
from .grounding_metric import GroundingAccuracy
from .keypoint_metric import OVCocoKeypointMetric
from .lvis_metric import OVLvisMetric
from .region_metrics import CountingMAE, InteractiveSegMetric, RegionRecognitionAccuracy
from .routing_metric import RoutingAccuracy, parse_routes, strip_routes
from .semseg_metric import OVIoUMetric
from .summary import free_path_summary
from .text_metrics import CaptionObjectF1, VQAAccuracy, normalize_answer

__all__ = ['OVCocoMetric', 'EditMetric', 'GenerationMetric', 'GroundingAccuracy', 'OVCocoKeypointMetric',
           'OVLvisMetric', 'RoutingAccuracy', 'parse_routes', 'strip_routes', 'OVIoUMetric', 'CaptionObjectF1',
           'VQAAccuracy', 'normalize_answer', 'free_path_summary', 'CountingMAE', 'InteractiveSegMetric',
           'RegionRecognitionAccuracy']
