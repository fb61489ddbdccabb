"""tools/benchmark.py prints its numbers on tiny configs."""
import re

from tests.conftest import tiny_config
from tests.tools.test_cli import run

GEN_CFG = 'configs/visionllm/visionllm_internvl-tiny_gen-edit_1xb8-2k_synthetic.py'
DET_CFG = 'configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_synthetic.py'


def _dump(path, synth_root, tokenizer_dir, tmp_path):
    cfg = tiny_config(path, synth_root, tokenizer_dir, str(tmp_path))
    out = str(tmp_path / 'cfg.py')
    cfg.dump(out)
    return out


def test_step_breakdown_prints_parts_and_mfu(synth_root, tokenizer_dir, tmp_path):
    r = run(['tools/benchmark.py', 'step', _dump(DET_CFG, synth_root, tokenizer_dir, tmp_path), '--iters', '1',
             '--bf16', '--peak-tflops', '1'])
    assert r.returncode == 0, r.stderr[-3000:]
    parts = {k: float(v) for k, v in re.findall(r'(mllm|superlink|decoders|total)\s+([\d.]+) ms', r.stdout)}
    assert set(parts) == {'mllm', 'superlink', 'decoders', 'total'}, r.stdout
    # the parts are timed in separate passes, so only their presence is checked, not how they compare
    assert parts['mllm'] > 0 and parts['decoders'] > 0 and parts['total'] > 0, r.stdout
    m = re.search(r'FLOPs/step ([\d.]+) GFLOP\s+achieved ([\d.]+) TFLOP/s\s+MFU ([\d.]+) % of 1 TFLOP/s', r.stdout)
    assert m and float(m.group(1)) > 0, r.stdout
    assert abs(float(m.group(3)) - float(m.group(2)) * 100) < 0.2  # MFU = achieved / peak


def test_sampling_time_per_image(synth_root, tokenizer_dir, tmp_path):
    r = run(['tools/benchmark.py', 'sample', _dump(GEN_CFG, synth_root, tokenizer_dir, tmp_path), '--steps', '2'])
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r'generate\s+batch 1\s+[\d.]+ ms\s+batch 8\s+[\d.]+ ms', r.stdout), r.stdout
    assert re.search(r'edit\s+batch 1\s+[\d.]+ ms', r.stdout), r.stdout


def test_ablation_trains_tests_and_prints_the_table(synth_root, tokenizer_dir, tmp_path):
    """`ablate` trains a variant (here only the configs' own one, which adds no options), scores it on the
    test split and prints its row; the metrics it read come from tools/test.py's --json-out. (The other
    variants' settings are tested in tests/models/decoders/test_detection.py.)"""
    cfg = _dump(DET_CFG, synth_root, tokenizer_dir, tmp_path)
    work = tmp_path / 'ablate'
    r = run(['tools/benchmark.py', 'ablate', cfg, '--only', '3', '--work-dir', str(work)])
    assert r.returncode == 0, r.stderr[-3000:]
    row = re.search(r'slot states \+ name term \(config\)\s+([\d.]+)\s+([\d.]+|-)', r.stdout)
    assert row, r.stdout[-3000:]
    import json
    metrics = json.load(open(work / 'variant3' / 'test_metrics.json'))
    assert abs(metrics['det/bbox_mAP'] - float(row.group(1))) < 1e-3
    assert 'slot states only' not in r.stdout.split('class-embedding ablation')[-1]  # only the chosen variant
    assert 'routing-token accuracy' in r.stdout or 'token accuracy' in r.stdout  # tools/test.py's summary
