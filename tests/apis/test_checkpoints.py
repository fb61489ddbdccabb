"""A DeepSpeed checkpoint directory consolidated for the tools: written once per machine, atomically."""
import os

import torch


def test_only_local_rank_0_writes_the_consolidated_file(tmp_path, monkeypatch):
    import mmengine.dist

    from visionllm.apis import checkpoints
    ckpt = tmp_path / 'iter_2.pth'
    ckpt.mkdir()
    (ckpt / 'mp_rank_00_model_states.pt').write_bytes(b'')
    monkeypatch.setattr(checkpoints, 'deepspeed_state_dict', lambda path: {'w': torch.ones(2)})
    waits = []
    monkeypatch.setattr(mmengine.dist, 'barrier', lambda: waits.append(1))
    out_dir = tmp_path / 'work'
    monkeypatch.setenv('LOCAL_RANK', '1')  # another rank: waits, writes nothing
    out = checkpoints.loadable_checkpoint(str(ckpt), str(out_dir))
    assert waits == [1] and not os.path.exists(out)
    monkeypatch.setenv('LOCAL_RANK', '0')
    assert checkpoints.loadable_checkpoint(str(ckpt), str(out_dir)) == out and waits == [1, 1]
    assert torch.equal(torch.load(out, weights_only=False)['state_dict']['w'], torch.ones(2))
    assert os.listdir(out_dir) == ['iter_2_fp32.pth']  # no temporary file left
