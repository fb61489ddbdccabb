"""MergedGroupsOptimWrapperConstructor: the default constructor's per-parameter options, fewer groups."""
import copy

import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch import nn

from visionllm.engine import merge_param_groups


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.body = nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8), nn.Linear(8, 8))
        self.head = nn.Linear(8, 10, bias=False)
        self.head.weight = self.emb.weight  # tied, as the tiny LLM's lm_head
        self.bank = nn.Parameter(torch.randn(3, 8))

    def forward(self, ids):
        return self.head(self.body(self.emb(ids) + self.bank.mean(0)))


def _wrapper(model, constructor):
    init_default_scope('visionllm')
    return build_optim_wrapper(model, dict(
        type='OptimWrapper', constructor=constructor,
        optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.05),
        paramwise_cfg=dict(bypass_duplicate=True, norm_decay_mult=0.0,
                           custom_keys={'bank': dict(lr_mult=2.5), 'body.0': dict(lr_mult=0.5)})))


def _options(optimizer):
    return {id(p): {k: v for k, v in g.items() if k != 'params'} for g in optimizer.param_groups for p in g['params']}


def test_merged_groups_keep_every_parameters_options_and_the_update():
    torch.manual_seed(0)
    model = _Net()
    twin = copy.deepcopy(model)
    default = _wrapper(model, 'DefaultOptimWrapperConstructor')
    merged = _wrapper(twin, 'MergedGroupsOptimWrapperConstructor')
    # default: one group per parameter (the tied weight once); merged: one per distinct option set
    assert len(default.optimizer.param_groups) == len(list(model.parameters())) == 8
    assert len(merged.optimizer.param_groups) == 4  # base, lr x2.5, lr x0.5, no decay (LayerNorm)
    by_name = dict(zip([n for n, _ in model.named_parameters()], [_options(default.optimizer)[id(p)]
                                                                    for p in model.parameters()]))
    twin_opts = _options(merged.optimizer)
    for (name, p) in twin.named_parameters():
        assert twin_opts[id(p)] == by_name[name], name
    assert sum(len(g['params']) for g in merged.optimizer.param_groups) == 8
    # the first group holds the default's first parameter, with its options (the logger reports its lr)
    first = default.optimizer.param_groups[0]
    assert first['params'][0] is model.bank and merged.optimizer.param_groups[0]['params'][0] is twin.bank
    assert merged.optimizer.param_groups[0]['lr'] == first['lr'] == 2.5e-2
    ids = torch.randint(0, 10, (4, 5))
    for _ in range(3):
        for m, ow in ((model, default), (twin, merged)):
            ow.update_params(nn.functional.cross_entropy(m(ids).flatten(0, 1), ids.flatten()))
    for (name, a), b in zip(model.named_parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_merge_param_groups_keeps_first_appearance_order():
    a, b, c, d = (torch.zeros(1, requires_grad=True) for _ in range(4))
    groups = [dict(params=[a], lr=1.0), dict(params=[b], lr=2.0), dict(params=[c], lr=1.0),
              dict(params=[d], lr=1.0, weight_decay=0.0)]
    out = merge_param_groups(groups)
    assert [g['lr'] for g in out] == [1.0, 2.0, 1.0]
    assert [g['params'] for g in out] == [[a, c], [b], [d]]
    assert 'weight_decay' not in out[0] and out[2]['weight_decay'] == 0.0
