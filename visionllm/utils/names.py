"""Group names inside answer text: the characters that end a name, and a reversible escape for them.

A group's name is read back from the answer as the text between the previous delimiter and its routing
token (``Here are the results: red circle[DET], blue square[DET].``), so a name may not contain a
delimiter as such. :func:`escape_name` writes ``, : ;`` inside a name as their full-width forms and
:func:`unescape_name` turns them back, so any name round-trips exactly (``'left guy, blue shirt'``).
"""
NAME_DELIMITERS = (':', ',', ';', '\n')
_ESCAPES = {',': '\uff0c', ':': '\uff1a', ';': '\uff1b'}
_UNESCAPES = {v: k for k, v in _ESCAPES.items()}
# cannot be escaped: a newline ends the line, brackets would write routing tokens ('[DET]')
FORBIDDEN = ('\n', '[', ']')


def name_problem(name: str) -> str:
    """Why ``name`` cannot be a group name ('' when it can)."""
    if not name.strip():
        return 'empty name'
    bad = [c for c in FORBIDDEN if c in name] + [c for c in _UNESCAPES if c in name]
    if bad:
        return f'name {name!r} contains {", ".join(repr(c) for c in bad)} (not allowed in a group name)'
    return ''


def escape_name(name: str) -> str:
    """The name as written in prompts and answers (ValueError naming the character if it cannot be)."""
    problem = name_problem(name)
    if problem:
        raise ValueError(problem)
    return ''.join(_ESCAPES.get(c, c) for c in name)


def unescape_name(text: str) -> str:
    """Inverse of :func:`escape_name`."""
    return ''.join(_UNESCAPES.get(c, c) for c in text)
