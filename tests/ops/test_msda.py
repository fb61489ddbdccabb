"""The C++ CPU deformable-attention kernel against mmcv's PyTorch path."""
import importlib

import pytest
import torch

import visionllm  # noqa: F401  (installs the kernel into mmcv)
from visionllm.ops import msda


def _inputs(bs=2, nq=37, spread=3.0, dtype=torch.float64, shapes=((9, 11), (5, 6), (3, 3))):
    g = torch.Generator().manual_seed(0)
    shapes = torch.tensor(shapes)
    nk = int((shapes[:, 0] * shapes[:, 1]).sum())
    value = torch.randn(bs, nk, 2, 8, generator=g, dtype=dtype).requires_grad_()
    # spread 3: many points fall partly or wholly outside their level (zero padding)
    loc = ((torch.rand(bs, nq, 2, len(shapes), 4, 2, generator=g, dtype=dtype) - 0.5) * spread + 0.5).requires_grad_()
    weights = torch.rand(bs, nq, 2, len(shapes), 4, generator=g, dtype=dtype).requires_grad_()
    return value, shapes, loc, weights


@pytest.mark.parametrize('spread', [1.0, 3.0])
def test_kernel_matches_mmcv_forward_and_gradients(spread):
    assert msda.msda_kernel() is not None, 'the CPU kernel did not build on this machine'
    value, shapes, loc, weights = _inputs(spread=spread)
    assert msda.uses_kernel(value, loc, weights)
    ref = msda.mmcv_pytorch_msda()(value, shapes, loc, weights)
    out = msda.multi_scale_deformable_attn(value, shapes, loc, weights)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    grad = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad(out, (value, loc, weights), grad),
                    torch.autograd.grad(ref, (value, loc, weights), grad)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


def test_mmcv_module_runs_through_the_kernel():
    from mmcv.ops import MultiScaleDeformableAttention
    mod = importlib.import_module('mmcv.ops.multi_scale_deform_attn')
    assert mod.multi_scale_deformable_attn_pytorch is msda.multi_scale_deformable_attn
    attn = MultiScaleDeformableAttention(embed_dims=16, num_heads=2, num_levels=2, num_points=4, batch_first=True,
                                         dropout=0.0)
    shapes = torch.tensor([[6, 6], [3, 3]])
    x = torch.randn(2, 45, 16)
    ref_points = torch.rand(2, 45, 2, 2)
    kwargs = dict(spatial_shapes=shapes, level_start_index=torch.tensor([0, 36]), reference_points=ref_points)
    out = attn(x, value=x, **kwargs)
    mod.multi_scale_deformable_attn_pytorch = msda.mmcv_pytorch_msda()
    try:
        ref = attn(x, value=x, **kwargs)
    finally:
        mod.multi_scale_deformable_attn_pytorch = msda.multi_scale_deformable_attn
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


def test_other_dtypes_and_disabled_kernel_take_mmcvs_path(monkeypatch):
    value, shapes, loc, weights = _inputs(dtype=torch.bfloat16)
    assert not msda.uses_kernel(value, loc, weights)
    out = msda.multi_scale_deformable_attn(value, shapes, loc, weights)
    assert out.dtype == torch.bfloat16 and out.shape == (2, 37, 16)
    monkeypatch.setenv('VISIONLLM_MSDA_KERNEL', '0')
    value, shapes, loc, weights = _inputs(dtype=torch.float32)
    assert msda.msda_kernel() is None and not msda.uses_kernel(value, loc, weights)


def test_a_kernel_that_does_not_build_logs_one_line_and_returns_none(tmp_path, log_records, monkeypatch):
    monkeypatch.setenv('TORCH_EXTENSIONS_DIR', str(tmp_path / 'ext'))
    broken = tmp_path / 'broken.cpp'
    broken.write_text('this is not C++\n')
    assert msda.build_kernel(broken, name='visionllm_msda_broken_test') is None
    assert len(log_records) == 1 and 'broken.cpp' in log_records[0].getMessage()
    assert '\n' not in log_records[0].getMessage()


def test_a_lock_left_by_a_killed_build_is_removed_and_a_live_one_waited_for(tmp_path, log_records):
    import os
    import time
    lock = tmp_path / 'lock'
    lock.touch()
    old = time.time() - msda.STALE_LOCK_S - 5
    os.utime(lock, (old, old))
    assert msda.clear_stale_lock(tmp_path) and not lock.exists()
    assert len(log_records) == 1 and 'stale build lock' in log_records[0].getMessage()
    lock.touch()  # fresh: held by a running build, waited for until it is old enough to be stale
    t0 = time.time()
    assert msda.clear_stale_lock(tmp_path, stale_s=0.3, poll_s=0.05) and not lock.exists()
    assert time.time() - t0 >= 0.25


def test_each_source_path_and_content_gets_its_own_build_folder(tmp_path):
    a, b = tmp_path / 'a.cpp', tmp_path / 'b.cpp'
    a.write_text('int x;\n')
    b.write_text('int x;\n')
    assert msda.build_dir(a, 'k') != msda.build_dir(b, 'k')
    before = msda.build_dir(a, 'k')
    a.write_text('int y;\n')
    assert msda.build_dir(a, 'k') != before and msda.build_dir(a, 'k').name.startswith('k_')


def test_points_on_pixel_centres_get_mmcvs_one_sided_gradient():
    # mmdet initialises sampling offsets to integers around pixel-centre reference points: every point
    # sits on a bilinear kink, where the gradient depends on how the pixel coordinate is rounded
    shapes = torch.tensor([[9, 11], [5, 6], [3, 3]])
    g = torch.Generator().manual_seed(1)
    value = torch.randn(1, 99 + 30 + 9, 2, 8, generator=g).requires_grad_()
    locs = []
    for h, w in shapes.tolist():
        cx = (torch.randint(0, w, (40,), generator=g) + 0.5) / w
        cy = (torch.randint(0, h, (40,), generator=g) + 0.5) / h
        off = torch.randint(-2, 3, (40, 2, 4, 2), generator=g).float()
        locs.append(torch.stack([cx, cy], -1)[:, None, None] + off / torch.tensor([w, h]).float())
    loc = torch.stack(locs, 2)[None].requires_grad_()  # [1, 40, 2, 3, 4, 2]
    weights = torch.rand(1, 40, 2, 3, 4, generator=g).requires_grad_()
    out = msda.multi_scale_deformable_attn(value, shapes, loc, weights)
    ref = msda.mmcv_pytorch_msda()(value, shapes, loc, weights)
    grad = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad(out, (value, loc, weights), grad),
                    torch.autograd.grad(ref, (value, loc, weights), grad)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
