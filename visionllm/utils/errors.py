"""Error types that carry the file / field at fault."""


class VisionLLMError(Exception):
    """Base class of visionllm's user-facing errors."""


class BadSampleError(VisionLLMError):
    """One sample cannot be read (missing/corrupt image, malformed annotation).

    Training skips, counts and logs such samples; evaluation and inference raise.
    """

    def __init__(self, source: str, field: str, reason: str):
        self.source, self.field, self.reason = str(source), field, reason
        super().__init__(f'{source}: field `{field}`: {reason}')


class DataFormatError(VisionLLMError):
    """A whole annotation / conversation file is malformed."""


class ConfigError(VisionLLMError):
    """A config names something that does not exist or has a wrong value."""


class PromptError(VisionLLMError, ValueError):
    """A prompt / class list / request cannot be served."""
