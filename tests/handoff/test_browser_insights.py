"""In a real browser, as an admin: the insight page's figures and definitions after a scripted day, a draft from a
cluster that starts from its most typical question, Publish that wants a ticked box, and privacy look-ups that
put no phone number into a URL. Screenshots under var/screenshots/insights-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.insights import InsightsState
from tests.handoff.insights_support import encoder
from tests.handoff.support import PASSWORD
from tests.handoff.test_browser import browser, live_server  # noqa: F401 - Chromium and the served app
from tests.handoff.test_insights_api import admin  # noqa: F401 - the admin fixture
from tests.handoff.test_insights_day import scripted_day

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
pytestmark = pytest.mark.browser


@pytest.fixture
def backend():
    return "sqlite"


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"insights-{name}.png"), full_page=True)


def test_an_admin_reads_the_figures_drafts_from_a_cluster_and_must_confirm_publishing(
    live_server, browser, client, api, admin, open_hours
):
    base, served = live_server
    served.extensions["insights"] = InsightsState(encode=encoder(), kb_loader=lambda: None)
    scripted_day(api, client)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(f"{base}/agent/login")
    page.fill("input[name=email]", "alex@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/agent/")

    page.goto(f"{base}/agent/admin/insights/")
    assert page.inner_text("#stat-containment") == "63 %" and page.inner_text("#stat-self-service") == "43 %"
    assert page.inner_text("#stat-unanswered") == "4"
    definitions = page.inner_text("#definitions")
    assert "of the 7 who asked a question: 3" in definitions and "Requests for a person (1)" in definitions
    clusters = page.inner_text("#clusters")
    assert "bitcoin" in clusters and "real person" not in clusters and "how are you" not in clusters
    medoid = page.inner_text("#clusters tbody tr:first-child .medoid")
    shoot(page, "report")

    page.click("#clusters tbody tr:first-child a")
    assert page.input_value("textarea[name=questions]").splitlines()[0] == medoid
    page.fill("input[name=id]", "pay-bitcoin")
    page.fill("textarea[name=answer]", "We take cards and bank transfers, not bitcoin.")
    page.click("button[value=publish]")  # the box is not ticked
    assert "Publish to customers now" in page.inner_text("#problems")
    assert not page.is_checked("input[name=confirm]")
    shoot(page, "publish-unconfirmed")

    page.goto(f"{base}/agent/admin/privacy")
    page.select_option("select[name=kind]", "phone")
    page.fill("input[name=value]", "+4930123456")
    page.click("form[action$='/admin/privacy'] button")
    page.wait_for_load_state()
    assert page.url == f"{base}/agent/admin/privacy"  # the number went in the body, not the address
    shoot(page, "privacy-lookup")
