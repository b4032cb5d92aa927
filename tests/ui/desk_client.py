"""The officer desk driven through Flask's test client (no browser): sign in, receive, capture, sign."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_BODY_CSRF = re.compile(r'data-csrf="([^"]+)"')
_FLASH = re.compile(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', re.S)


@contextmanager
def desk_app(**settings: Any) -> Iterator[Any]:
    """The real kiosk app for this test's SOHOA_HOME (closed afterwards)."""
    from kiosk_ui.app import create_app

    app = create_app({"secret_key": "test-secret-key-" + "x" * 32, "dev_accounts": True, **settings})
    app.config["TESTING"] = True
    try:
        yield app
    finally:
        app.extensions["kiosk_backend"].close()


class Desk:
    """One officer's browser session on the desk, as form posts."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = _CSRF.search(client.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        resp = client.post("/login/password", data={"csrf_token": self.csrf, "username": "canbo",
                                                    "password": "canbo-dev"})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        # the session is renewed at sign-in: its token is the one the desk's pages carry
        self.csrf = _BODY_CSRF.search(client.get("/officer/").get_data(as_text=True)).group(1)  # type: ignore[union-attr]

    def post(self, url: str, **form: Any) -> Any:
        """POST a form of the desk (with the session's CSRF token)."""
        data = {"csrf_token": self.csrf, **form}
        return self.client.post(url, data=data, content_type="multipart/form-data")

    def new(self, owner: str, name: str = "Nguyễn Văn Thử") -> str:
        """Open a draft and identify its owner; returns the draft id."""
        resp = self.post("/officer/new")
        draft_id = resp.headers["Location"].split("/d/")[1].split("/")[0]
        resp = self.post(f"/officer/d/{draft_id}/owner", owner_id=owner, owner_name=name, owner_birth_date="")
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/procedure"), resp.get_data(as_text=True)
        return draft_id

    def procedure(self, draft_id: str, code: str, components: list[str]) -> Any:
        """Confirm the procedure and the components received (one page each)."""
        return self.post(f"/officer/d/{draft_id}/procedure", procedure=code, confirm="1", component=components,
                         **{f"pages_{c}": "1" for c in components})

    def sign(self, draft_id: str, pin: str, timeout: float = 180.0) -> dict[str, Any]:
        """Sign with the card PIN and wait for the background job; returns its last state."""
        resp = self.post(f"/officer/d/{draft_id}/sign", pin=pin, ack="1")
        assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"], resp.get_data(as_text=True)
        job = resp.headers["Location"].rstrip("/").split("/jobs/")[1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.client.get(f"/officer/jobs/{job}.json").get_json()
            if state["state"] in ("ok", "failed"):
                return dict(state)
            time.sleep(0.3)
        raise AssertionError("the signing job did not end")


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Visible(HTMLParser):
    """The text a reader sees: no scripts, styles, hidden parts, code-like ``.mono`` text or language switch."""

    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []
        self.stack: list[bool] = []  # per open element: whether it hides its content

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        hides = (tag in ("script", "style", "noscript", "template", "head") or "hidden" in a or "mono" in classes
                 or "hidden" in classes or a.get("data-testid") == "lang-switch")
        self.stack.append(hides)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.stack):
            self.out.append(data)


def visible_text(html: str) -> str:
    """What a page shows as text (the Chromium walk's ``innerText`` scan, without a browser)."""
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.out).split())


def flashes(html: str) -> str:
    """The flash messages of a page, joined."""
    return " | ".join(" ".join(unescape(m).split()) for m in _FLASH.findall(html))
