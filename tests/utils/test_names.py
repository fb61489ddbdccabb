import pytest

from visionllm.utils.names import NAME_DELIMITERS, escape_name, name_problem, unescape_name


def test_names_with_delimiters_round_trip():
    for name in ('left guy, blue shirt', 'ratio 3:4', 'a; b', 'plain name', 'café (small)'):
        escaped = escape_name(name)
        assert not any(d in escaped for d in NAME_DELIMITERS)
        assert unescape_name(escaped) == name


def test_names_that_cannot_be_written_are_refused_with_the_reason():
    for name, char in (('two\nlines', r"'\n'"), ('a [DET] b', "'['"), ('', 'empty')):
        assert char in name_problem(name)
        with pytest.raises(ValueError, match='empty|not allowed'):
            escape_name(name)
    assert 'not allowed' in name_problem('already\uff0cescaped')  # would not round-trip
