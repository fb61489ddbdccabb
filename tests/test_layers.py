"""The package's layers import only downwards: registry / structures / utils / ops at the bottom, then
datasets, models, evaluation, visualization, engine, apis (tools on top). Every import counts, those inside
functions too."""
import ast
import os
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
LAYERS = [('registry', 'structures', 'utils', 'ops'), ('datasets', ), ('models', ), ('evaluation', ),
          ('visualization', ), ('engine', ), ('apis', )]
TIER = {name: t for t, names in enumerate(LAYERS) for name in names}


def _module(path: str) -> str:
    rel = osp.relpath(path, REPO)[:-3].replace(os.sep, '.')
    return rel[:-len('.__init__')] if rel.endswith('.__init__') else rel


def _imports(path: str, mod: str = ''):
    """(line, imported module) of every visionllm import in a file (the module ``mod``, by default named
    from its path), relative ones resolved."""
    mod = mod or _module(path)
    package = mod.split('.') if path.endswith('__init__.py') else mod.split('.')[:-1]
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                names = ['.'.join(base + ([node.module] if node.module else []))]
            else:
                names = [node.module or '']
        else:
            continue
        yield from ((node.lineno, n) for n in names if n.split('.')[0] == 'visionllm')


def _layer(module: str):
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else None


def test_every_package_has_a_layer():
    packages = {f[:-3] if f.endswith('.py') else f for f in os.listdir(osp.join(REPO, 'visionllm'))
                if not f.startswith(('_', '.'))}
    assert packages == set(TIER), packages ^ set(TIER)


def test_no_module_imports_from_a_layer_above_it():
    upward = []
    for root, _, files in os.walk(osp.join(REPO, 'visionllm')):
        for f in files:
            if not f.endswith('.py'):
                continue
            path = osp.join(root, f)
            here = _layer(_module(path))
            for line, target in _imports(path):
                there = _layer(target)
                if here in TIER and there in TIER and TIER[there] > TIER[here]:
                    upward.append(f'{osp.relpath(path, REPO)}:{line} ({here}) imports {target} ({there})')
    assert not upward, '\n'.join(upward)


def test_the_walk_sees_upward_imports(tmp_path):
    """The checker itself: function-level and relative upward imports are reported."""
    probe = tmp_path / 'probe.py'
    probe.write_text('def f():\n    from visionllm.models import VisionLLM\n    from ..apis import x\n')
    found = [t for _, t in _imports(str(probe), 'visionllm.datasets.probe')]
    assert found == ['visionllm.models', 'visionllm.apis']
    assert [TIER[_layer(t)] > TIER['datasets'] for t in found] == [True, True]
