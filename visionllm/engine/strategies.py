"""mmengine strategy fixes for the torch this project pins."""
from mmengine._strategy import FSDPStrategy
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

from visionllm.registry import STRATEGIES


@STRATEGIES.register_module()
class TorchFSDPStrategy(FSDPStrategy):
    """mmengine's FSDPStrategy with ``optim_state_dict_to_load`` called with torch 2's argument order
    (``model, optim, optim_state_dict``); mmengine 0.10 passes the state dict first, which breaks resuming."""

    def load_optim_state_dict(self, state_dict: dict) -> None:
        self.optim_wrapper.load_state_dict(
            FSDP.optim_state_dict_to_load(self.model, self.optim_wrapper.optimizer, state_dict))
