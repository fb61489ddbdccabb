"""Run under torchrun: train each config given (a dumped, tiny config) for its iterations under DDP, one
runner after another in the same process group; prints ``trained <config>`` per config on rank 0."""
import sys

import torch.distributed as dist

from visionllm.apis.runner_utils import build_runner, build_runner_cfg


def main(paths) -> None:
    for path in paths:
        cfg = build_runner_cfg(path, launcher='pytorch')
        runner = build_runner(cfg)
        runner.train()
        if dist.get_rank() == 0:
            print(f'trained {path}', flush=True)
        del runner


if __name__ == '__main__':
    main(sys.argv[1:])
