"""The embedded synthetic multitask dataset (generator + vocabulary)."""
from .generator import generate_dataset
from .vocabulary import HELD_OUT, all_categories, seen_categories

__all__ = ['generate_dataset', 'HELD_OUT', 'all_categories', 'seen_categories']
