"""The local developer flow, as a person uses it: `dagster dev` from the repository root, then a real
Chromium opens the asset graph, opens an asset, materializes one partition through the UI's own
Materialize dialog, and watches the run succeed. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from loan_pipeline.settings import PROJECT_ROOT
from loan_pipeline_tests.deploy.harness import ManagedProcess, bin_path, clean_env, free_port, http_get, wait_until
from loan_pipeline_tests.deploy.sample import ASSET, first_partition, write_sample_data

pytestmark = pytest.mark.deploy

CHROMIUM = "/usr/bin/chromium"
# Headless Chromium as root in a container, with nothing phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
RUN_TIMEOUT_S = 420


def _wait_for_run(page: Page, run_url: str) -> str:
    """Wait until the run page's status tag reads Success, Failure or Canceled. The page updates live;
    a reload every 30 s covers a dropped websocket. Hidden copies of these words are in the DOM, so
    only visible ones count."""
    final = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$")).filter(visible=True)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            final.first.wait_for(timeout=30_000)
            return final.first.inner_text()
        except PlaywrightTimeoutError:
            page.goto(run_url, wait_until="domcontentloaded")
    raise AssertionError(f"run at {run_url} did not finish within {RUN_TIMEOUT_S}s")


def test_materialize_one_partition_from_the_ui(tmp_path: Path):
    started = time.monotonic()
    assert Path(CHROMIUM).exists(), "chromium missing: run scripts/system-deps.sh"
    data_dir, home = tmp_path / "data" / "loans", tmp_path / "home"
    write_sample_data(data_dir)
    partition = first_partition(data_dir)
    # The instance ./dev sets up (Dagster's own SQLite storage): the UI streams the run's events from it.
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        LOAN_PIPELINE_DATA_DIR=str(data_dir),
        LOAN_PIPELINE_CC_DATA_DIR=str(tmp_path / "data" / "cc_general"),
        LOAN_PIPELINE_HOME=str(home),
    )
    ARTIFACTS.mkdir(exist_ok=True)
    # From the repository root with no target, exactly as documented for local development.
    dev = ManagedProcess.start("dagster-dev", [bin_path("dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)], env, PROJECT_ROOT, tmp_path / "logs")
    try:
        wait_until(lambda: dev.assert_running() or http_get(f"{base}/server_info"), timeout=180, what="dagster dev", details=dev.log_tail)
        print(f"dagster dev answering after {time.monotonic() - started:.1f}s")

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(60_000)
                # First visit to a fresh instance shows "Join the Dagster community": Skip it whenever it shows.
                page.add_locator_handler(page.get_by_role("button", name="Skip"), lambda skip: skip.click())

                # The asset graph; jump to the asset, whose side panel opens, then to its page.
                page.goto(f"{base}/asset-groups", wait_until="domcontentloaded")
                expect(page.get_by_text("Global asset lineage")).to_be_visible()
                page.get_by_placeholder("Jump to…").fill(ASSET)
                page.keyboard.press("Enter")
                page.get_by_role("link", name="View in Asset Catalog").click()
                page.wait_for_url(f"**/assets/{ASSET}")
                expect(page.get_by_text("Never materialized")).to_be_visible()

                # Materialize… -> partition dialog -> one custom partition -> launch.
                page.get_by_role("button", name=re.compile(r"Materialize…")).click()
                dialog = page.get_by_role("dialog")
                expect(dialog.get_by_text(f"Launch runs to materialize {ASSET}")).to_be_visible()
                dialog.get_by_role("button", name="Custom").click()
                partitions = dialog.get_by_placeholder(re.compile(r"^ex: "))
                partitions.fill(partition)
                partitions.press("Enter")
                expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
                dialog.get_by_role("button", name="Launch 1 run").click()

                # The toast links to the run.
                toast = page.get_by_text(re.compile(r"^Launched run"))
                expect(toast).to_be_visible()
                page.get_by_role("button", name="View").or_(page.get_by_role("link", name="View")).first.click()
                page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"))
                run_url = page.url
                print(f"run launched from the UI after {time.monotonic() - started:.1f}s")
                expect(page.get_by_text(f"partition: {partition}")).to_be_visible()

                status = _wait_for_run(page, run_url)
                if status != "Success":
                    page.screenshot(path=str(ARTIFACTS / "ui-run.png"))
                assert status == "Success", f"run {run_url} ended {status}; see test-artifacts/ui-run.png\n{dev.log_tail()}"
                # The event log shows the materialization of that partition and the run's end.
                expect(page.get_by_text("RUN_SUCCESS")).to_be_visible()
                expect(page.get_by_text("ASSET_MATERIALIZATION").first).to_be_visible()
                page.screenshot(path=str(ARTIFACTS / "ui-run.png"))

                print(f"run finished after {time.monotonic() - started:.1f}s")
                # The asset page now shows the materialized partition.
                page.goto(f"{base}/assets/{ASSET}", wait_until="domcontentloaded")
                expect(page.get_by_text("Latest materialization")).to_be_visible()
                expect(page.get_by_text(partition, exact=True).first).to_be_visible()
                expect(page.get_by_text("Never materialized")).to_have_count(0)
                page.screenshot(path=str(ARTIFACTS / "ui-asset.png"))
            finally:
                browser.close()

        # The run the UI launched wrote that month, and only it, under this test's LOAN_PIPELINE_HOME.
        table = home / "datamart" / "bronze" / ASSET
        assert sorted(p.name for p in table.glob("month=*")) == [f"month={partition}"]
    finally:
        code = dev.stop(timeout=60)
        print(f"browser test: {time.monotonic() - started:.1f}s, dagster dev exit code {code}")
    assert code == 0, f"dagster dev exited {code} on SIGTERM\n{dev.log_tail()}"
