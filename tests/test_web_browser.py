"""``regwatch web`` as a real server (a subprocess on 127.0.0.1), read over HTTP and in a real headless
Chromium driven by Selenium.

The browser tests need Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``; ``.ci/run`` installs them) and the ``selenium`` package; without them
they skip, saying what is missing. No browser is downloaded. Screenshots of every page go to
``$REGWATCH_SCREENSHOTS`` (default: the test's tmp directory) and their paths are printed.
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.process import process_pending
from store import Store

BASE = ("2024-46-standard", "2025-18-table", "2025-58-standard", "2025-70-ergodic", "2025-72-gonggao")
K58, K70 = "mofcom+gacc:2025:58", "mofcom+gacc:2025:70"
TITLE_72 = "关于暂停实施商务部公告2024年第46号第二款的公告"
HOSTILE = '<script>document.title="pwned"</script>"><img src=x onerror="document.title=\'pwned\'">\u202eexe.pdf'
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, page_tools) -> Iterator[str]:
    """``regwatch web`` on a free loopback port over the fixture database (No.72's title made hostile)."""
    db = tmp_path_factory.mktemp("served") / "web.db"
    with Store.open(db) as store:
        page_tools.register_sources(store)
        for case in BASE:
            body = page_tools.read("mofcom", "MofcomNoticePage", case)[0]
            if case == "2025-72-gonggao":
                body = body.replace(TITLE_72.encode(), html.escape(HOSTILE).encode())
            page_tools.save(store, case, at=page_tools.T0, body=body)
        process_pending(store, now=page_tools.T0)
        page_tools.save(store, "2025-58-edited-state2", at=page_tools.T0 + timedelta(days=1))
        process_pending(store, now=page_tools.T0 + timedelta(days=1))
    port = _free_port()
    env = {**os.environ, "REGWATCH_NOW": (page_tools.T0 + timedelta(days=2)).isoformat()}
    env.pop("REGWATCH_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--db", str(db), "web", "--port", str(port)],
                            env=env, cwd=db.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/sources", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    out, err = proc.communicate(timeout=5) if proc.poll() is not None else (b"", b"")
                    pytest.fail(f"regwatch web did not start: {err.decode(errors='replace')}")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def test_served_over_http_on_loopback(server: str) -> None:
    with urllib.request.urlopen(server + f"/doc/{K58}") as response:
        body = response.read().decode("utf-8")
        assert response.status == 200
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "2025-11-08" in body and K70 in body
    with urllib.request.urlopen(urllib.request.Request(server + "/", headers={"Accept": "application/json"})) as r:
        assert r.headers["Content-Type"].startswith("application/json")


# -- a real headless Chromium ----------------------------------------------------------------------


def _missing() -> str | None:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        return (f"no system Chromium ({CHROMIUM}, {CHROMEDRIVER}): `apt-get install chromium chromium-driver` "
                "to run the browser tests")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    missing = _missing()
    if missing:
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("REGWATCH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shot(driver, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot {path}"
    print(f"screenshot: {path}")


def _console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]


@pytest.mark.browser
def test_click_from_changes_to_document_to_diff(browser, server: str, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(server + "/")
    assert driver.title == "changes · regwatch"
    rows = driver.find_elements(By.CSS_SELECTOR, "table.changes tbody tr")
    assert len(rows) == 6 and "changed" in rows[0].text and K58 in rows[0].text
    _shot(driver, shots, "changes")
    rows[0].find_element(By.CSS_SELECTOR, "a.key").click()
    assert driver.current_url == f"{server}/doc/{K58}"
    timeline = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.timeline tbody tr")]
    assert timeline == ["2025-10-09 not yet effective its own dates", f"2025-11-08 suspended until 2026-11-10 {K70}",
                        f"2026-11-11 in force {K70}"]
    _shot(driver, shots, "document")
    driver.find_element(By.LINK_TEXT, "v1→v2").click()
    assert driver.current_url == f"{server}/doc/{K58}/diff/1..2"
    assert [li.text for li in driver.find_elements(By.CSS_SELECTOR, "ul.field-changes li")] == [
        "code 3C901.b added", "element Mn added"]
    inserted = driver.find_elements(By.CSS_SELECTOR, "table.side td.new ins")
    texts = [i.get_attribute("textContent") for i in inserted]  # .text would trim the inserted line break
    assert sum(len(t) for t in texts) == 27 and "3C901.b" in "".join(texts)
    assert driver.find_elements(By.CSS_SELECTOR, "table.side td.old ins") == []
    # the stylesheet really applies (served locally, allowed by the CSP): insertions are highlighted
    assert inserted[0].value_of_css_property("background-color") == "rgba(215, 245, 221, 1)"
    _shot(driver, shots, "diff")
    driver.find_element(By.LINK_TEXT, "inline").click()
    assert driver.find_elements(By.CSS_SELECTOR, "div.inline ins")
    _shot(driver, shots, "diff-inline")
    assert _console_errors(driver) == []


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/deadlines?on=2026-11-01", "/search?q=%E7%A8%80%E5%9C%9F", "/alerts", "/sources",
                                  "/doc/mofcom:2025:72"])
def test_each_page_loads_without_errors_and_runs_no_page_script(browser, server: str, shots: Path, path: str) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(server + path)
    assert driver.find_element(By.TAG_NAME, "h1").text
    assert "pwned" not in driver.title  # the hostile title of No.72 ran nothing
    assert driver.find_elements(By.CSS_SELECTOR, "img") == []  # ... and injected no element
    _shot(driver, shots, re.sub(r"\W+", "-", path.strip("/")) or "changes")
    assert _console_errors(driver) == []


@pytest.mark.browser
def test_hostile_title_shows_as_text(browser, server: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server + "/doc/mofcom:2025:72")
    shown = browser.find_element(By.CSS_SELECTOR, "p.doctitle").text
    assert '<script>document.title="pwned"</script>' in shown and "<img src=x" in shown
    assert shown.endswith("[U+202E]exe.pdf")  # the override is shown, not obeyed
    assert browser.title == "mofcom:2025:72 · regwatch"


def test_missing_browser_reason_is_clear(monkeypatch) -> None:
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    assert _missing().startswith("no system Chromium (/usr/bin/chromium, /usr/bin/chromedriver)")
