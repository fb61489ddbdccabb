"""Visualization: one visualizer for boxes, masks, keypoints and generated images."""
from .regions import draw_region_prompts
from .visualizer import VisionLLMVisualizer

__all__ = ['VisionLLMVisualizer', 'draw_region_prompts']
