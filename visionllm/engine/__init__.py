"""Engine: hooks, optimizer constructors."""
from .hooks import BadSampleHook

__all__ = ['BadSampleHook']
