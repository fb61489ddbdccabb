"""Visualization: one visualizer for boxes, masks, keypoints and generated images."""
from .visualizer import VisionLLMVisualizer

__all__ = ['VisionLLMVisualizer']
