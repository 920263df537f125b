"""The trace's HTML player in a real browser (Debian's chromium, driven by Selenium) and in Jupyter.

The browser must be the system's: nothing here downloads one. The README's test command installs
``chromium`` and ``chromium-driver``; Selenium is told where they are, so it never looks online.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from graphs import lecture
from nbclient import NotebookClient

import tinygraph as tg

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# No network, no background services: without these, chromium tries many connections at start.
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for program in (CHROMIUM, CHROMEDRIVER):
        assert Path(program).exists(), f"{program} is missing: apt-get install chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.mark.browser
@pytest.mark.needs_dot
def test_the_player_steps_through_backward_offline(browser, tmp_path):
    from selenium.webdriver.common.by import By

    loss, _ = lecture()
    path = tg.trace(loss).save_html(tmp_path / "backprop.html")
    browser.get_log("performance")  # forget what the blank start page did
    browser.get(path.as_uri())

    def shown():
        (frame,) = [f for f in browser.find_elements(By.CSS_SELECTOR, ".tgp-frame") if f.is_displayed()]
        title = frame.find_element(By.TAG_NAME, "h2").text
        svg = frame.find_element(By.CSS_SELECTOR, ".tgp-diagram svg")
        assert svg.size["width"] > 300 and svg.size["height"] > 100
        return title, svg.get_attribute("outerHTML")

    root = browser.find_element(By.CSS_SELECTOR, ".tgp")
    assert root.get_attribute("data-step") == "0"
    start_title, start_svg = shown()
    assert start_title == "Start"
    assert browser.find_element(By.CSS_SELECTOR, ".tgp-prev").get_attribute("disabled") == "true"

    browser.find_element(By.CSS_SELECTOR, ".tgp-next").click()
    title, svg = shown()
    assert root.get_attribute("data-step") == "1"
    assert title == "Step 1 of 3: BCE: L = −[y log a + (1 − y) log(1 − a)]"
    assert svg != start_svg and "sent: ∂L/∂a" in svg
    assert browser.find_element(By.CSS_SELECTOR, ".tgp-position").text == "step 1 of 3"

    browser.execute_script(
        "var s = arguments[0]; s.value = 3; s.dispatchEvent(new Event('input'));",
        browser.find_element(By.CSS_SELECTOR, ".tgp-slider"),
    )
    title, last_svg = shown()
    assert title == "Step 3 of 3: Linear: z = x @ w + b" and "sent: ∂L/∂w" in last_svg
    assert browser.find_element(By.CSS_SELECTOR, ".tgp-next").get_attribute("disabled") == "true"
    browser.find_element(By.CSS_SELECTOR, ".tgp-prev").click()
    assert shown()[0].startswith("Step 2 of 3: Sigmoid")

    # Nothing but the file itself was loaded: no resource entries, and in the browser's network
    # log no request from the page but the page, and none at all to the network (chrome:// ones
    # are the browser's own pages, not the network).
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    requests = [
        message["params"]
        for entry in browser.get_log("performance")
        for message in [json.loads(entry["message"])["message"]]
        if message["method"] == "Network.requestWillBeSent"
    ]
    from_page = [r["request"]["url"] for r in requests if r.get("documentURL") == path.as_uri()]
    assert from_page == [path.as_uri()]
    assert not [r["request"]["url"] for r in requests if re.match(r"(https?|wss?|ftp):", r["request"]["url"])]


@pytest.mark.needs_dot
def test_the_saved_file_refers_to_nothing_outside_it(tmp_path):
    loss, _ = lecture()
    text = tg.trace(loss).save_html(tmp_path / "backprop.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 4  # the start and 3 steps
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text, re.IGNORECASE)
    assert not re.search(r"@import|url\(", text)
    # the only addresses left are the SVG namespaces, which name a vocabulary and load nothing
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }


@pytest.mark.needs_dot
def test_a_notebook_shows_the_player_as_html(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            f"import sys; sys.path.insert(0, {str(ROOT)!r})  # this checkout's tinygraph\n"
            "import tinygraph as tg\n"
            "x = tg.tensor([[1.0, 2.0, -1.0]], name='x')\n"
            "w = tg.tensor([0.5, -0.3, 0.8], requires_grad=True, name='w')\n"
            "b = tg.tensor(0.1, requires_grad=True, name='b')\n"
            "steps = tg.trace(tg.bce(tg.sigmoid(tg.linear(x, w, b)), [1.0]))\n"
            "steps"
        )
    ]
    NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    (output,) = [o for o in notebook.cells[0].outputs if o["output_type"] == "execute_result"]
    page = output["data"]["text/html"]
    assert 'class="tgp"' in page and page.count("<svg") == 4 and "Step 2 of 3: Sigmoid" in page
    assert output["data"]["text/plain"].startswith("3 steps of backward from L:")
