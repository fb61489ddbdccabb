"""tools/demo.py served by a subprocess on 127.0.0.1: every tab through gradio_client, and the detect tab in a
real browser (the system's Chromium, driven by Selenium)."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from tests.conftest import REPO, free_port, tiny_config

JOINT = 'configs/visionllm/visionllm_internvl-tiny_stage2-joint_1xb8-3k_synthetic.py'  # every decoder family


@pytest.fixture(scope='module')
def server(synth_root, tokenizer_dir, tmp_path_factory):
    """The demo on the joint config (random weights), its URL; stopped after the module's tests."""
    tmp = tmp_path_factory.mktemp('demo')
    cfg = tiny_config(JOINT, synth_root, tokenizer_dir, str(tmp))
    for fam in ('gen', 'edit'):
        cfg.model.decoders[fam].test_cfg.num_inference_steps = 2
    cfg.model.decoders.pose.test_cfg.score_thr = 0.0
    cfg.dump(str(tmp / 'demo_cfg.py'))
    port = free_port()
    log = open(tmp / 'server.log', 'w')
    proc = subprocess.Popen([sys.executable, osp.join(REPO, 'tools/demo.py'), str(tmp / 'demo_cfg.py'), '--port',
                             str(port), '--examples', synth_root], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, GRADIO_ANALYTICS_ENABLED='False'))
    url = f'http://127.0.0.1:{port}/'
    deadline = time.time() + 180
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError('the demo did not start:\n' + open(tmp / 'server.log').read()[-3000:])
        time.sleep(0.5)
    yield url, tmp
    proc.terminate()
    proc.wait(30)
    log.close()


def _upload(tmp, shape=(150, 260)) -> str:
    """A non-square test picture (shapes on a grey background) written as PNG."""
    from visionllm.datasets.transforms.loading import write_rgb
    img = np.full(shape + (3, ), 120, np.uint8)
    img[20:80, 30:100] = (220, 30, 30)
    img[60:140, 150:240] = (30, 30, 220)
    path = str(tmp / 'upload.png')
    write_rgb(path, img)
    return path


def _read(path: str) -> np.ndarray:
    from visionllm.datasets.transforms.loading import read_rgb
    return read_rgb(path)


def test_every_tab_through_the_api(server):
    from gradio_client import Client, handle_file
    url, tmp = server
    client = Client(url, verbose=False)
    img = _upload(tmp)
    H, W = 150, 260
    # detect: a picture at the image's aspect (small images enlarged for drawing), boxes in image coordinates
    pic, table, json_path = client.predict(handle_file(img), 'red square . blue square', False, 0.0,
                                           api_name='/detect')
    drawn = _read(pic)
    assert drawn.shape[1] == 512 and abs(drawn.shape[0] / drawn.shape[1] - H / W) < 0.01 and drawn.std() > 0
    rows = table['data']
    assert rows and {r[0] for r in rows} <= {'red square', 'blue square'}
    for _, _, x0, y0, x1, y1 in rows:
        assert -0.5 <= x0 <= x1 <= W + 0.5 and -0.5 <= y0 <= y1 <= H + 0.5
    import json
    with open(json_path) as f:
        assert len(json.load(f)['bboxes']) == len(rows)
    # chat, two rounds: the first turn comes back as context of the second
    history, box = client.predict(handle_file(img), 'How many red circles are there?', [], False, 1.0, 1.0, 8, 1, 0,
                                  api_name='/chat')
    assert [m['role'] for m in history] == ['user', 'assistant'] and box == ''
    history, _ = client.predict(handle_file(img), 'And blue squares?', history, True, 0.8, 0.9, 8, 1, 4,
                                api_name='/chat')
    beam, _ = client.predict(handle_file(img), 'And blue squares?', history[:2], False, 1.0, 1.0, 8, 2, 0,
                             api_name='/chat')
    assert [m['role'] for m in beam] == ['user', 'assistant'] * 2
    assert [m['role'] for m in history] == ['user', 'assistant'] * 2
    assert 'How many red circles' in str(history[0]['content'])
    # segment, pose, generate, edit
    pic, table = client.predict(handle_file(img), 'background . red square', api_name='/segment')
    assert _read(pic).shape[1] == 512 and abs(sum(r[1] for r in table['data']) - 1) < 1e-3
    pic, inst = client.predict(handle_file(img), 'red square', 'top . left', 0.0, api_name='/pose')
    assert _read(pic).shape[1] == 512 and inst['keypoint_names'] == ['top', 'left']
    for kp in inst['keypoints']:
        assert all(-1 <= x <= W + 1 and -1 <= y <= H + 1 for x, y in kp)
    gen = _read(client.predict('a red circle above a blue square', 2, 3.0, 0, api_name='/generate'))
    edited = _read(client.predict(handle_file(img), 'make the red square blue', 2, 3.0, 0, api_name='/edit'))
    assert gen.ndim == 3 and edited.ndim == 3 and gen.shape[-1] == edited.shape[-1] == 3


def test_bad_input_gives_a_message_and_the_server_keeps_serving(server):
    from gradio_client import Client, handle_file
    url, tmp = server
    client = Client(url, verbose=False)
    broken = tmp / 'broken.png'
    broken.write_bytes(b'not an image at all')
    cases = [((None, 'red square', False, 0.3), 'no image'),
             ((handle_file(_upload(tmp)), ' . ', False, 0.3), 'empty class list'),
             ((handle_file(str(broken)), 'red square', False, 0.3), 'cannot identify image file')]  # Gradio's own check
    for args, message in cases:
        with pytest.raises(Exception, match=message):
            client.predict(*args, api_name='/detect')
    # a huge image is downscaled for the model; results come back in its own coordinates
    big = _upload(tmp, (1500, 2600))
    _, table, _ = client.predict(handle_file(big), 'red square', False, 0.0, api_name='/detect')
    assert table['data']
    assert all(r[4] <= 2600.5 and r[5] <= 1500.5 for r in table['data'])


def test_overlapping_requests_from_several_clients(server):
    """Detect (prompted and free), chat (sampled and greedy), segment and pose from several clients at once:
    each answer equals the one the same request gets alone, before and after (the server keeps no request's
    settings)."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client, handle_file
    url, tmp = server
    img = _upload(tmp)

    def detect(free, thr):
        return lambda c: c.predict(handle_file(img), 'red square . blue square', free, thr, api_name='/detect')[1]

    def chat(sample, temperature):
        return lambda c: c.predict(handle_file(img), 'How many red squares?', [], sample, temperature, 1.0, 12, 1, 7,
                                   api_name='/chat')[0]
    requests = dict(detect=detect(False, 0.0), detect_free=detect(True, 0.1), chat_sampled=chat(True, 1.5),
                    chat_greedy=chat(False, 1.0),
                    segment=lambda c: c.predict(handle_file(img), 'background . red square', api_name='/segment')[1],
                    pose=lambda c: c.predict(handle_file(img), 'red square', 'top . left', 0.1, api_name='/pose')[1])
    clients = [Client(url, verbose=False) for _ in range(3)]
    alone = {k: fn(clients[0]) for k, fn in requests.items()}
    order = list(requests) * 2
    with ThreadPoolExecutor(len(order)) as pool:
        futures = [(k, pool.submit(requests[k], clients[i % len(clients)])) for i, k in enumerate(order)]
        together = [(k, f.result()) for k, f in futures]
    for k, result in together:
        assert result == alone[k], k
    assert {k: fn(clients[1]) for k, fn in requests.items()} == alone


def _chromium():
    for browser, driver in (('/usr/bin/chromium', '/usr/bin/chromedriver'),
                            (shutil.which('chromium'), shutil.which('chromedriver'))):
        if browser and driver and osp.exists(browser) and osp.exists(driver):
            return browser, driver
    return None


@pytest.mark.skipif(_chromium() is None, reason='no system Chromium + chromedriver (scripts/setup_env.sh --tests '
                    'installs them with apt-get)')
def test_detect_tab_in_a_real_browser(server, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    url, tmp = server
    browser, driver = _chromium()
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--window-size=1400,1000'):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        d.get(url)
        wait = WebDriverWait(d, 120)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#detect_image input[type=file]'))
        d.find_element(By.CSS_SELECTOR, '#detect_image input[type=file]').send_keys(_upload(tmp))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#detect_image img'))
        names = d.find_element(By.CSS_SELECTOR, '#detect_names textarea')
        names.clear()
        names.send_keys('red square . blue square')
        d.find_element(By.CSS_SELECTOR, '#detect_button').click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#detect_output img'))
        out = d.find_element(By.CSS_SELECTOR, '#detect_output img')
        wait.until(lambda d: d.execute_script('return arguments[0].complete && arguments[0].naturalWidth', out))
        assert d.execute_script('return arguments[0].naturalWidth', out) == 512
        shot = str(tmp_path / 'detect_tab.png')
        assert d.save_screenshot(shot) and osp.getsize(shot) > 10_000
    finally:
        d.quit()
