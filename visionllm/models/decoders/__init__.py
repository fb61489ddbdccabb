"""Specialist decoders, one file per family."""
from .base import BaseTaskDecoder

__all__ = ['BaseTaskDecoder']
