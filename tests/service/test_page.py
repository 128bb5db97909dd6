"""The web page, driven in a real headless Chromium against the real server."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                reason="chromium/chromedriver not installed (make adds them)")
JFK = REPO / "examples" / "jfk.flac"
WAIT_S = 30.0


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="wavesmith-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # Headless, and no background traffic: this machine has no network beyond loopback.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic",
                 f"--user-data-dir={profile}", "--window-size=1000,1100"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait_visible(driver: object, element_id: str) -> object:
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S).until(ec.visibility_of_element_located(("id", element_id)))


def test_page_describes_and_converts(server: str, browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(server + "/")
    assert driver.title == "wavesmith"
    driver.find_element("id", "file").send_keys(str(JFK))
    driver.find_element("id", "info-btn").click()
    table = _wait_visible(driver, "info-table")
    rows = {r.get_attribute("data-field"): r.find_elements("tag name", "td")[1].text
            for r in table.find_elements("tag name", "tr")}
    assert rows["format"] == "FLAC"
    assert rows["sample_rate"] == "44100 Hz"
    assert rows["duration_s"] == "11 s"

    Select(driver.find_element("id", "format")).select_by_visible_text("flac")
    driver.find_element("id", "rate").send_keys("16000")
    driver.find_element("id", "channels").send_keys("1")
    driver.find_element("id", "convert-btn").click()
    link = _wait_visible(driver, "download")
    assert link.get_attribute("download") == "jfk.flac"
    assert int(link.get_attribute("data-bytes")) > 10_000
    driver.save_screenshot(str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").stat().st_size > 0


def test_page_analyses_normalises_and_transcribes(server: str, browser: object) -> None:
    driver = browser
    driver.get(server + "/")
    driver.find_element("id", "file").send_keys(str(JFK))

    driver.find_element("id", "analyze-btn").click()
    table = _wait_visible(driver, "analyze-table")
    rows = {r.get_attribute("data-field"): r.find_elements("tag name", "td")[1].text
            for r in table.find_elements("tag name", "tr")}
    lufs = float(rows["integrated loudness"].split()[0])
    assert -14.0 < lufs < -11.0  # jfk.flac measures -12.5 LUFS
    assert rows["tempo"].endswith("bpm") and rows["key"]
    from selenium.webdriver.support.ui import WebDriverWait

    plot = _wait_visible(driver, "analyze-plot")
    width = WebDriverWait(driver, WAIT_S).until(  # the PNG decodes after it is shown
        lambda d: d.execute_script("return arguments[0].naturalWidth", plot))
    assert width > 500

    driver.find_element("id", "normalize-btn").click()
    link = _wait_visible(driver, "normalize-download")
    assert link.get_attribute("download") == "jfk_-16LUFS.wav"

    driver.find_element("id", "transcribe-btn").click()
    transcript = _wait_visible(driver, "transcript")
    text = transcript.text.lower()
    assert "ask not what your country can do for you" in text
    assert "0.0–" in transcript.text  # segment times shown


def test_page_shows_one_line_error_for_bad_file(server: str, browser: object,
                                                 tmp_path: Path) -> None:
    bad = tmp_path / "noise.wav"
    bad.write_bytes(b"this is not audio at all" * 50)
    driver = browser
    driver.get(server + "/")
    driver.find_element("id", "file").send_keys(str(bad))
    driver.find_element("id", "info-btn").click()
    error = _wait_visible(driver, "info-error")
    assert error.text.startswith("noise.wav: not a recognised audio file")


def _blob_head(driver: object, url: str) -> tuple[int, str]:
    """(size in bytes, first 4 bytes as text) of a blob URL, read inside the page."""
    size, head = driver.execute_async_script(  # type: ignore[attr-defined]
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.blob()).then(async b => "
        "done([b.size, await b.slice(0, 4).text()]));", url)
    return int(size), str(head)


def test_page_makes_a_melody(server: str, browser: object) -> None:
    """Section 7: the REMI transformer's melody comes back as playable WAV and as MIDI; a
    bad choice (3 bars for the VAE) shows the service's one-line message."""
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(server + "/")
    Select(driver.find_element("id", "music-model")).select_by_value("transformer-remi")
    for field, value in (("music-bars", "4"), ("music-seed", "3")):
        box = driver.find_element("id", field)
        box.clear()
        box.send_keys(value)
    driver.find_element("id", "music-btn").click()
    wav = _wait_visible(driver, "music-wav")
    assert wav.get_attribute("download") == "transformer-remi-seed3.wav"
    size, head = _blob_head(driver, wav.get_attribute("href"))
    assert head == "RIFF" and size > 6 * 44_100 * 2   # 4 bars at 120 bpm: 8 s, > 6 s mono
    midi = driver.find_element("id", "music-midi")
    size, head = _blob_head(driver, midi.get_attribute("href"))
    assert head == "MThd" and midi.get_attribute("download") == "transformer-remi-seed3.mid"

    Select(driver.find_element("id", "music-model")).select_by_value("vae")
    box = driver.find_element("id", "music-bars")
    box.clear()
    box.send_keys("3")
    driver.find_element("id", "music-btn").click()
    error = _wait_visible(driver, "music-error")
    assert "bars=3 must be an even integer" in error.text
    assert not driver.find_element("id", "music-result").is_displayed()
