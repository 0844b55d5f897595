"""The dashboard's support and audit pages in Debian's Chromium against the real platform: a
ticket opened from a bot page (bad input answered beside its field), answered by an operator from
the queue with an internal note, the answer arriving live on the customer's page and the note never
reaching it (not in the page, not in any answer its token gets, not in the audit log); resolve,
reopen by writing, close. The audit log read by a manager, filtered by who, what and when, paged,
with the workspace's members as of an instant; a viewer told why there is nothing to read, and the
API refusing them too. axe-core over every page, a screenshot of each kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .browser import (
    Scene,
    check_page,
    dashboard_platform,
    log_in,
    make_bot,
    need_chromium,
    open_context,
)
from .live import LivePlatform

need_chromium()
expect.set_options(timeout=15_000)
pytestmark = pytest.mark.kafka
ZONE = "Asia/Tokyo"
"""The browsers' time zone: the audit page's times are the viewer's, not the server's."""
NOTE = "INTERNAL-7Q: customer runs an old client, do not tell them"


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    with dashboard_platform(
        kafka_bootstrap, Path(tmp_path_factory.mktemp("dashboard-support"))
    ) as platform:
        yield platform


@pytest.fixture
def viewer_zone() -> str:
    return ZONE


def new_context(browser: Browser) -> BrowserContext:
    return open_context(browser, ZONE)


def at_200_percent(page: Page, name: str) -> None:
    """The page as a 1280-pixel window shows it at 200% zoom (640 CSS pixels): nothing pushes it
    sideways, and axe-core still passes; then back to the usual size."""
    page.set_viewport_size({"width": 640, "height": 450})
    try:
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"{name}: {widths[0]} px wide in a 640 px window"
        check_page(page, name)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def fetch_json(page: Page, path: str) -> dict[str, Any]:
    """GET `path` from the page's own context with its session token: status and body."""
    return dict(
        page.evaluate(
            """async (path) => {
                const r = await fetch(path, {headers: {
                    'Authorization': 'Bearer ' + localStorage.getItem('plutarc.session')}});
                return {status: r.status, type: r.headers.get('content-type'),
                        text: await r.text()};
            }""",
            path,
        )
    )


def test_a_ticket_from_a_bot_page_answered_live_and_the_internal_note_never_shown(
    live: LivePlatform, browser: Browser, context: BrowserContext, scene: Scene
) -> None:
    owner, _, owner_email = scene.user("carla")
    ws = scene.organisation(owner, "Help Desk")
    bot = make_bot(scene, owner, ws, "Osaka scalper")
    _, operator_id, operator_email = scene.user("otto")
    live.grant_operator(operator_id)
    _, colleague_id, _ = scene.user("uma")
    live.grant_operator(colleague_id)

    page = context.new_page()
    log_in(page, live.base_url, owner_email)
    expect(page.get_by_role("link", name="Support queue")).to_have_count(0)
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_text("No notifications yet")).to_be_visible()
    check_page(page, "notifications-empty")
    page.goto(f"{live.base_url}/w/{ws}/support/{uuid4()}")
    expect(page.get_by_role("alert")).to_contain_text("This ticket does not exist")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    check_page(page, "support-ticket-missing")
    page.goto(f"{live.base_url}/w/{ws}/support")
    expect(page.get_by_text("No tickets in this workspace yet.")).to_be_visible()
    check_page(page, "support-empty")

    # From the bot page, with the bot attached.
    page.goto(f"{live.base_url}/w/{ws}/bots/{bot}")
    page.get_by_role("link", name="Ask support about this bot").click()
    page.wait_for_url(f"**/w/{ws}/support?bot={bot}")
    expect(page.get_by_label(f"Attach bot {bot} to the ticket")).to_be_checked()
    expect(page.get_by_label("Category")).to_have_value("bots")
    page.get_by_label("Subject").fill("   ")
    page.get_by_role("button", name="Open ticket").click()
    # The API's problems, beside each field.
    expect(page.get_by_label("Subject")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("What happened")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#ticket-body-error")).to_have_text("This cannot be empty.")
    subject_error = page.get_by_label("Subject").get_attribute("aria-describedby")
    expect(page.locator(f"#{subject_error}")).to_have_text("Must not be blank.")
    check_page(page, "support-open-errors")
    page.get_by_label("Subject").fill("Bot stopped at 09:00")
    page.get_by_label("What happened").fill("It stopped without a word.")
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url(re.compile(rf"/w/{ws}/support/[0-9a-f-]+$"))
    ticket = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name="Bot stopped at 09:00")).to_be_visible()
    expect(page.locator("dl")).to_contain_text(bot)
    expect(page.locator("dl")).to_contain_text("open (support's turn)")
    expect(page.get_by_role("list", name="Conversation")).to_contain_text("You wrote")
    check_page(page, "support-ticket-customer")
    at_200_percent(page, "support-ticket-customer-200")

    operator_context = new_context(browser)
    try:
        op = operator_context.new_page()
        log_in(op, live.base_url, operator_email)
        op.get_by_role("link", name="Support queue").click()
        queue = op.get_by_role("region", name="Waiting on support")
        row = queue.locator("tr", has_text="Bot stopped at 09:00")
        expect(row).to_contain_text("high")
        expect(row).to_contain_text("no one")
        expect(row).to_contain_text("Help Desk")  # the workspace by name
        check_page(op, "support-queue")
        row.get_by_role("link", name="Bot stopped at 09:00").click()
        op.wait_for_url(f"**/support/tickets/{ticket}")
        facts = op.locator("dl").nth(1)
        expect(facts).to_contain_text("Help Desk")
        expect(facts).to_contain_text("Carla")
        expect(op.get_by_role("list", name="Conversation")).to_contain_text("Carla wrote")
        expect(op.get_by_text("No internal notes.")).to_be_visible()
        # An empty note is answered beside its field.
        op.get_by_role("button", name="Add internal note").click()
        expect(op.get_by_label("Internal note (operators only)")).to_have_attribute(
            "aria-invalid", "true"
        )
        op.get_by_label("Internal note (operators only)").fill(NOTE)
        op.get_by_role("button", name="Add internal note").click()
        notes = op.get_by_role("list", name="Internal notes")
        expect(notes).to_contain_text(NOTE)
        expect(notes).to_contain_text("internal note")
        # Visibly apart from the customer's thread: its own framed section, dashed, marked.
        assert op.locator("section.internal").get_by_text(NOTE).count() == 1
        assert op.get_by_role("list", name="Conversation").get_by_text(NOTE).count() == 0
        style = op.locator("li.note").first.evaluate("e => getComputedStyle(e).borderTopStyle")
        thread_style = op.locator("li.message-user").first.evaluate(
            "e => getComputedStyle(e).borderTopStyle"
        )
        assert (style, thread_style) == ("dashed", "solid")
        expect(op.get_by_text("never shown to the customer")).to_be_visible()

        # To a colleague, chosen by name; then back to me.
        op.get_by_label("Assign to", exact=True).select_option(label="Uma")
        op.get_by_role("button", name="Assign", exact=True).click()
        expect(facts).to_contain_text("Assigned toUma")
        op.get_by_role("button", name="Assign to me").click()
        expect(facts).to_contain_text("Assigned toyou")
        op.get_by_label("Status", exact=True).select_option("waiting_on_user")
        op.get_by_role("button", name="Set status").click()
        expect(op.locator("dl").first).to_contain_text("waiting on the user")
        op.get_by_label("Reply (the customer reads this)").fill("We restarted it; it runs again.")
        # The keyboard reaches the reply's button next, and sends it.
        op.get_by_label("Reply (the customer reads this)").press("Tab")
        expect(op.get_by_role("button", name="Send reply")).to_be_focused()
        op.keyboard.press("Enter")
        expect(op.get_by_role("list", name="Conversation")).to_contain_text(
            "You (support) answered"
        )
        check_page(op, "support-ticket-operator")
        # Answered, it left the queue; every ticket, by status, still finds it.
        op.get_by_role("link", name="Support queue").first.click()
        expect(queue.get_by_text("Bot stopped at 09:00")).to_have_count(0)
        # Live, no reload: a ticket opened now (in another workspace of the customer's, this
        # one's list is checked below) appears in the operator's queue and in every ticket.
        loaded = queue.locator("table").or_(queue.get_by_text("No ticket is waiting on support."))
        expect(loaded).to_be_visible()  # read before the ticket exists
        every = op.get_by_role("region", name="Every ticket")
        expect(every.locator("tr", has_text="Bot stopped at 09:00")).to_be_visible()
        expect(every.get_by_text("Fills missing since noon")).to_have_count(0)
        other = scene.organisation(owner, "Side Desk")
        with scene.http(owner) as http:
            r = http.post(
                f"/v1/workspaces/{other}/support/tickets",
                json={
                    "subject": "Fills missing since noon",
                    "body": "None since 12:00.",
                    "category": "bots",
                },
            )
            assert r.status_code == 201, r.text
        expect(queue.locator("tr", has_text="Fills missing since noon")).to_be_visible()
        expect(every.locator("tr", has_text="Fills missing since noon")).to_be_visible()
        every.get_by_label("With status").select_option("waiting_on_user")
        every.get_by_role("button", name="Find").click()
        expect(every.locator("tr", has_text="Bot stopped at 09:00")).to_contain_text("you")
        op.goto(f"{live.base_url}/support/tickets/{uuid4()}")
        expect(op.get_by_role("alert")).to_contain_text("This ticket does not exist")
    finally:
        operator_context.close()

    # Live on the customer's page, no reload: the answer, the status; never the note.
    thread = page.get_by_role("list", name="Conversation")
    expect(thread).to_contain_text("We restarted it; it runs again.")
    expect(page.locator("dl")).to_contain_text("waiting on you")
    assert NOTE not in page.content()
    for path in (
        f"/v1/workspaces/{ws}/support/tickets/{ticket}",
        f"/v1/workspaces/{ws}/support/tickets",
        "/v1/me/notifications",
        f"/v1/workspaces/{ws}/audit?limit=500",
    ):
        answer = fetch_json(page, path)
        assert answer["status"] == 200, (path, answer)
        assert "INTERNAL-7Q" not in answer["text"], path
    notes_route = fetch_json(page, f"/v1/support/tickets/{ticket}/notes")
    assert notes_route["status"] == 403
    assert notes_route["type"] == "application/problem+json"
    assert '"access.not_an_operator"' in notes_route["text"]
    # The notification feed has the answer, and leads back to the ticket.
    page.get_by_role("link", name="Notifications").click()
    feed = page.get_by_role("list", name="Your notifications, newest first")
    expect(feed).to_contain_text("Support answered: “We restarted it; it runs again.”")
    expect(feed).to_contain_text("Help Desk")
    assert "INTERNAL-7Q" not in page.content()
    check_page(page, "notifications")
    feed.get_by_role("link", name="Bot stopped at 09:00").click()
    page.wait_for_url(f"**/w/{ws}/support/{ticket}")
    expect(thread).to_contain_text("We restarted it; it runs again.")
    page.goto(f"{live.base_url}/support/queue")
    expect(page.get_by_role("alert")).to_contain_text("Only plutarc's support operators")
    check_page(page, "support-queue-refused")

    # Resolve, write again (it reopens), close.
    page.go_back()
    page.wait_for_url(f"**/w/{ws}/support/{ticket}")
    page.get_by_role("button", name="Mark resolved").click()
    expect(page.locator("dl")).to_contain_text("resolved")
    expect(page.get_by_role("heading", name="Write again")).to_be_visible()
    page.get_by_label("Your message").fill("It stopped again.")
    page.get_by_role("button", name="Send and reopen").click()
    expect(page.locator("dl")).to_contain_text("open (support's turn)")
    expect(thread).to_contain_text("It stopped again.")
    page.get_by_role("button", name="Close ticket").click()
    expect(page.locator("dl")).to_contain_text("closed")
    expect(page.get_by_role("button", name="Close ticket")).to_have_count(0)
    page.get_by_role("link", name="All tickets").click()
    page.get_by_label("Status").select_option("open")
    expect(page.get_by_text("No tickets with this status.")).to_be_visible()
    page.get_by_label("Status").select_option("closed")
    expect(page.locator("tr", has_text="Bot stopped at 09:00")).to_contain_text("closed")
    check_page(page, "support-list")

    # The owner's audit log tells of the ticket, never of the note.
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_text("opened the support ticket “Bot stopped at 09:00”")).to_be_visible()
    expect(page.get_by_text("support answered a ticket")).to_be_visible()
    assert "INTERNAL-7Q" not in page.content()


def local(at: datetime) -> str:
    """An instant as a datetime-local field in the browsers' zone takes it (to the millisecond)."""
    return at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def who_cells(page: Page) -> list[str]:
    return [c.strip() for c in page.locator("tbody tr td:nth-child(2)").all_inner_texts()]


def test_the_audit_log_filtered_by_actor_paged_and_as_of_an_instant(
    live: LivePlatform, context: BrowserContext, scene: Scene
) -> None:
    owner, olga_id, _ = scene.user("olga")
    ws = scene.organisation(owner, "Ledger Desk")
    _, _, manager_email = scene.member(owner, ws, "mara", "manager")
    _, tom_id, tom_email = scene.member(owner, ws, "tom", "trader")
    with scene.http(owner) as http:
        for n in range(8):
            r = http.post(
                f"/v1/workspaces/{ws}/invitations",
                json={"email": f"guest{n}@example.com", "role": "viewer"},
            )
            assert r.status_code == 201, r.text
        before_change = datetime.now(UTC)
        r = http.patch(f"/v1/workspaces/{ws}/members/{tom_id}", json={"role": "viewer"})
        assert r.status_code == 200, r.text

    page = context.new_page()
    log_in(page, live.base_url, manager_email)
    page.goto(f"{live.base_url}/w/{ws}")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_text("changed Tom's role from trader to viewer")).to_be_visible()
    expect(page.get_by_text("invited guest0@example.com as viewer")).to_be_visible()
    expect(page.get_by_text("Mara joined as manager")).to_be_visible()
    expect(page.get_by_text("role: trader → viewer")).to_be_visible()
    check_page(page, "audit-manager")
    # Newest first by default: Tom's role change (the last thing done) heads the table; oldest
    # first, the workspace's creation does, and the address keeps the order.
    expect(page.locator("tbody tr").first).to_contain_text("changed Tom's role")
    page.get_by_label("Order").select_option(label="Oldest first")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", name="Entries, oldest first")).to_be_visible()
    expect(page.locator("tbody tr").first).to_contain_text("created the workspace Ledger Desk")
    assert "order=oldest" in page.url, page.url
    page.get_by_label("Order").select_option(label="Newest first")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("tbody tr").first).to_contain_text("changed Tom's role")
    at_200_percent(page, "audit-manager-200")

    # By actor: Mara's own acceptance only; then Olga's, ten a page.
    page.get_by_label("Who").select_option(label="Mara")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("tbody tr").first).to_contain_text("Mara")
    assert set(who_cells(page)) == {"Mara"}, who_cells(page)
    page.get_by_label("Who").select_option(label="Olga")
    page.get_by_label("Entries per page").select_option("10")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("tbody tr")).to_have_count(10)
    assert set(who_cells(page)) == {"Olga"}, who_cells(page)
    first_page = page.locator("tbody").inner_text()
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    assert page.locator("tbody").inner_text() != first_page
    assert set(who_cells(page)) == {"Olga"}, who_cells(page)
    check_page(page, "audit-filtered")
    page.get_by_role("button", name="Previous page").click()
    expect(page.get_by_text("Page 1")).to_be_visible()
    # The filters are in the address: a reload (or a link) keeps them.
    assert "actor=user" in page.url and "limit=10" in page.url, page.url
    page.reload()
    expect(page.get_by_label("Who")).to_have_value(f"user:{olga_id}")
    expect(page.get_by_label("Entries per page")).to_have_value("10")
    expect(page.locator("tbody tr")).to_have_count(10)
    assert set(who_cells(page)) == {"Olga"}, who_cells(page)

    # By what, by keyboard: the field, then Enter.
    page.get_by_label("What (event type)").fill("identity.member_role_changed")
    page.get_by_label("What (event type)").press("Enter")
    expect(page.locator("tbody tr")).to_have_count(1)
    # Bad input beside its field, from the API's problem.
    page.get_by_label("What (event type)").fill("x" * 101)
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_label("What (event type)")).to_have_attribute("aria-invalid", "true")
    check_page(page, "audit-filter-error")
    # A time range with nothing in it: the empty state.
    page.get_by_role("button", name="Clear").click()
    page.get_by_label("From").fill(local(datetime(2030, 1, 1, tzinfo=UTC)))
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No entries match these filters.")).to_be_visible()

    # The workspace as of an instant before Tom's change, and now.
    page.get_by_label("As of", exact=True).fill(local(before_change))
    page.get_by_role("button", name="Show").click()
    then = page.get_by_role("region", name="The workspace as it was")
    expect(then.locator("tr", has_text=tom_email)).to_contain_text("trader")
    expect(then.get_by_role("table", name="Pending invitations then")).to_contain_text(
        "guest7@example.com"
    )
    check_page(page, "audit-as-of")
    page.get_by_label("As of", exact=True).fill("")
    page.get_by_role("button", name="Show").click()
    expect(then.locator("tr", has_text=tom_email)).to_contain_text("viewer")


def test_a_viewer_is_told_the_audit_log_is_not_theirs_and_the_api_refuses(
    live: LivePlatform, context: BrowserContext, scene: Scene
) -> None:
    owner, _, _ = scene.user("oren")
    ws = scene.organisation(owner, "Closed Desk")
    _, _, viewer_email = scene.member(owner, ws, "vic", "viewer")
    page = context.new_page()
    log_in(page, live.base_url, viewer_email)
    page.goto(f"{live.base_url}/w/{ws}/audit")
    expect(page.get_by_text("A viewer cannot read this workspace's audit log")).to_be_visible()
    assert page.locator("main").locator("table, form, input, select, button").count() == 0
    check_page(page, "audit-viewer")
    answer = fetch_json(page, f"/v1/workspaces/{ws}/audit")
    assert answer["status"] == 403
    assert answer["type"] == "application/problem+json"
    assert '"access.forbidden"' in answer["text"]
