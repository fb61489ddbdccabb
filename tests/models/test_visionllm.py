"""The generalist's own logic (decoder order)."""
import pytest


def test_decoders_run_after_those_they_read():
    """Pose reads detection's instances: it runs after detection whatever the config order; a missing or
    circular requirement is a config error."""
    from visionllm.models.decoder_order import dependency_order
    from visionllm.utils.errors import ConfigError
    assert dependency_order({'pose': ('det', ), 'seg': (), 'det': ()}) == ['det', 'pose', 'seg']
    with pytest.raises(ConfigError, match="reads the predictions of a 'det' decoder"):
        dependency_order({'pose': ('det', )})
    with pytest.raises(ConfigError, match='cycle: a -> b -> a'):
        dependency_order({'a': ('b', ), 'b': ('a', )})
