"""The Studio page driven the way a person uses it (playwright on Debian's chromium): shared by the
Studio's browser tests and the governance dashboard's end-to-end test."""
from __future__ import annotations

import re

from tests.e2e.harness import CHROMIUM_FLAGS, browser, chromium  # noqa: F401 (re-exported)

# the machine is shared and loaded: generous waits, they only cost time when something is wrong
WAIT_MS = 120_000
DOCUMENT_QUERY = {"measures": ["transactions.debit_to_credit_ratio"],
                  "dimensions": ["customers.zone", "customers.city", "customers.branch_name", "transactions.channel"]}


class StudioPage:
    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.console_errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))

    def close(self) -> None:
        self.context.close()

    # ---- session ----
    def open(self) -> "StudioPage":
        self.page.goto(self.base + "/studio/")
        return self

    def log_in(self, token: str) -> "StudioPage":
        from playwright.sync_api import expect

        self.page.get_by_label("Your token or API key").fill(token)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.locator("#workspace")).to_be_visible(timeout=WAIT_MS)
        return self

    def who(self) -> str:
        return self.page.locator("#whoami").inner_text()

    # ---- what it offers ----
    def offered_members(self) -> set[str]:
        boxes = self.page.locator("#member-list input[type=checkbox]")
        times = self.page.locator("#time-dimension option")
        return ({boxes.nth(i).get_attribute("value") for i in range(boxes.count())}
                | {v for v in (times.nth(i).get_attribute("value") for i in range(times.count())) if v})

    # ---- building ----
    def pick(self, *names: str) -> None:
        """Find each member with the search box and tick it."""
        search = self.page.get_by_label("Find a member")
        for name in names:
            search.fill(name.split(".", 1)[1])
            self.page.locator(f"#member-list input[type=checkbox][value='{name}']").check()
        search.fill("")

    def add_sort(self, member: str, direction: str) -> None:
        self.page.get_by_role("button", name="Add sort").click()
        n = self.page.locator("#order-rows .row").count()
        self.page.get_by_label(f"sort {n}: member").select_option(member)
        self.page.get_by_label(f"sort {n}: direction").select_option(direction)

    def add_filter(self, member: str, operator: str, values: list[str]) -> None:
        self.page.get_by_role("button", name="Add filter").click()
        n = self.page.locator("#filter-rows .row").count()
        self.page.get_by_label(f"filter {n}: member").select_option(member)
        self.page.get_by_label(f"filter {n}: operator").select_option(operator)
        if values:
            self.page.get_by_label(f"filter {n}: values, one per line").fill("\n".join(values))

    def set_paging(self, limit: int | None, offset: int) -> None:
        self.page.get_by_label("Limit", exact=True).fill("" if limit is None else str(limit))
        self.page.get_by_label("Offset", exact=True).fill(str(offset))

    def run(self) -> str:
        from playwright.sync_api import expect

        status = self.page.locator("#run-status")
        self.page.get_by_role("button", name="Run Query").click()
        expect(status).to_have_text(re.compile(r"rows in \d+ ms|refused|Cannot run"), timeout=WAIT_MS)
        return status.inner_text()

    # ---- reading ----
    def columns(self) -> list[str]:
        heads = self.page.locator("#rows thead th")
        return [heads.nth(i).get_attribute("data-member") for i in range(heads.count())]

    def rows(self) -> list[list[str]]:
        return self.page.locator("#rows tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent))")

    def meta(self) -> dict[str, str]:
        return self.page.locator("#meta").evaluate(
            "dl => Object.fromEntries([...dl.querySelectorAll('dt')].map(dt => [dt.textContent, dt.nextElementSibling.textContent]))")

    def error(self) -> str:
        return self.page.locator("#error").inner_text()

    def tab(self, name: str):
        from playwright.sync_api import expect

        self.page.get_by_role("tab", name=name).click()
        panel = self.page.get_by_role("tabpanel", name=name)
        expect(panel).to_be_visible()
        return panel

    def copy(self, name: str, credentials: str = "token") -> str:
        """Copy the query in format ``name`` (cURL, GraphQL, SQL) and return the clipboard's text."""
        from playwright.sync_api import expect

        self.page.locator(f"input[name=credentials][value={credentials}]").check()
        panel = self.tab(name)
        if name == "SQL":
            expect(self.page.locator("#code-sql")).not_to_be_empty(timeout=WAIT_MS)
        self.page.evaluate("navigator.clipboard.writeText('')")
        panel.get_by_role("button", name=f"Copy {name}").click()
        expect(panel.locator(".copied")).to_have_text("Copied.", timeout=WAIT_MS)
        return self.page.evaluate("navigator.clipboard.readText()")

    def shown_code(self, name: str) -> str:
        self.tab(name)
        return self.page.locator(f"#code-{name.lower()}").inner_text()


def cell(value) -> str:
    """How the Studio writes a value of /v2/load's JSON in a cell."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def same_rows(shown: list[list[str]], data: list[dict], columns: list[str]) -> bool:
    """The rows on the page are /v2/load's rows (numbers compared as numbers: JS and Python print floats apart)."""
    if len(shown) != len(data):
        return False
    for texts, row in zip(shown, data):
        for text, key in zip(texts, columns):
            v = row[key]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if float(text) != float(v):
                    return False
            elif text != cell(v):
                return False
    return True
