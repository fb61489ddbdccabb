"""Captions, VQA pairs, referring expressions and edit instructions for synthetic scenes."""
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .scene import SceneObject
from .vocabulary import COLOURS, NUMBER_WORDS, SHAPES, plural


def a(noun_phrase: str) -> str:
    """'a red circle' / 'an orange star'."""
    return ('an ' if noun_phrase[0] in 'aeiou' else 'a ') + noun_phrase


def count_phrase(n: int, colour: str, shape: str) -> str:
    return a(f'{colour} {shape}') if n == 1 else f'{NUMBER_WORDS[n]} {colour} {plural(shape)}'


def caption(objs: Sequence[SceneObject]) -> str:
    """Objects left to right, same names merged: 'a red circle, two blue squares and a green star.'"""
    order = sorted(objs, key=lambda o: float(o.center[0]))
    counts = Counter(o.name for o in objs)
    parts, seen = [], set()
    for o in order:
        if o.name not in seen:
            seen.add(o.name)
            parts.append(count_phrase(counts[o.name], o.colour, o.shape))
    body = parts[0] if len(parts) == 1 else ', '.join(parts[:-1]) + ' and ' + parts[-1]
    return body[0].upper() + body[1:] + '.'


def parse_caption(text: str) -> Counter:
    """Inverse of :func:`caption`: Counter of 'colour shape' -> count (unparsable parts ignored)."""
    out: Counter = Counter()
    body = text.strip().rstrip('.').lower().replace(' and ', ', ')
    singular = {plural(s): s for s in SHAPES}
    for part in body.split(','):
        words = part.split()
        if len(words) != 3:
            continue
        num, colour, shape = words
        n = 1 if num in ('a', 'an') else (NUMBER_WORDS.index(num) if num in NUMBER_WORDS else 0)
        shape = singular.get(shape, shape)
        if n and colour in COLOURS and shape in SHAPES:
            out[f'{colour} {shape}'] += n
    return out


def vqa_pairs(rng: np.random.Generator, objs: Sequence[SceneObject], names: Sequence[str],
              k: int = 3) -> List[Tuple[str, str, str]]:
    """Up to k (question_type, question, answer) pairs; ``names`` are the nameable categories."""
    counts = Counter(o.name for o in objs)
    shapes = Counter(o.shape for o in objs)
    colours = Counter(o.colour for o in objs)
    cands: List[Tuple[str, str, str]] = []
    name = names[int(rng.integers(len(names)))] if rng.random() < 0.5 or not objs else \
        objs[int(rng.integers(len(objs)))].name
    c, s = name.split(' ')
    cands.append(('count', f'How many {c} {plural(s)} are there?', str(counts[name])))
    present = rng.random() < 0.5 and len(objs) > 0
    name = objs[int(rng.integers(len(objs)))].name if present else names[int(rng.integers(len(names)))]
    cands.append(('exist', f'Is there {a(name)}?', 'yes' if counts[name] else 'no'))
    uniq_shapes = [s for s, n in shapes.items() if n == 1]
    if uniq_shapes:
        s = uniq_shapes[int(rng.integers(len(uniq_shapes)))]
        cands.append(('colour', f'What colour is the {s}?', next(o.colour for o in objs if o.shape == s)))
    uniq_colours = [c for c, n in colours.items() if n == 1]
    if uniq_colours:
        c = uniq_colours[int(rng.integers(len(uniq_colours)))]
        cands.append(('shape', f'What shape is the {c} object?', next(o.shape for o in objs if o.colour == c)))
    if len(objs) >= 2:
        o = min(objs, key=lambda o: float(o.center[0]))
        cands.append(('position', 'What is the leftmost object?', o.name))
    idx = rng.permutation(len(cands))[:k]
    return [cands[i] for i in sorted(idx)]


def referring_expression(objs: Sequence[SceneObject], i: int) -> Optional[str]:
    """A phrase naming exactly objs[i], or None if no simple phrase is unique."""
    o = objs[i]
    same = [j for j, p in enumerate(objs) if p.name == o.name]
    if len(same) == 1:
        return f'the {o.name}'
    xs = sorted(same, key=lambda j: float(objs[j].center[0]))
    if xs[0] == i:
        return f'the leftmost {o.name}'
    if xs[-1] == i:
        return f'the rightmost {o.name}'
    return None


def relation_prompt(x: SceneObject, y: SceneObject) -> str:
    """'a red circle above a blue square' from the centres of x and y."""
    a_ = a
    dx, dy = (y.center - x.center).tolist()
    rel = ('left of' if dx > 0 else 'right of') if abs(dx) > abs(dy) else ('above' if dy > 0 else 'below')
    return f'{a_(x.name)} {rel} {a_(y.name)}'


def edit_instruction(rng: np.random.Generator, objs: List[SceneObject],
                     allowed: Sequence[str]) -> Tuple[str, List[SceneObject]]:
    """Pick an edit; returns (instruction, edited object list). Recolours stay within ``allowed``."""
    i = int(rng.integers(len(objs)))
    o = objs[i]
    if len(objs) > 1 and rng.random() < 0.35:
        return f'remove the {o.name}', objs[:i] + objs[i + 1:]
    choices = [c for c in COLOURS if c != o.colour and f'{c} {o.shape}' in allowed]
    new = choices[int(rng.integers(len(choices)))]
    edited: Dict = dict(o.__dict__)
    edited.update(colour=new, rgb=np.array(COLOURS[new], np.float32))
    return f'make the {o.name} {new}', objs[:i] + [type(o)(**edited)] + objs[i + 1:]
