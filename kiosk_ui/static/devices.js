/* sohoa-edge kiosk: the station's devices on the page. Polls the device events of this session:
   a QR reader scan fills the page's [data-qr-fill] input (owner identity on the desk, dossier
   look-up on the citizen screen), a refused scan shows its message, and the panel's capture
   button presses the capture screen's capture button. No external libraries. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.events;
  if (!url) { return; }
  var since = script.dataset.since;  /* the newest event when the page was made: a scan right after
                                        the page appears is not lost before the first poll */
  if (since && /^[0-9]+$/.test(since)) { url += (url.indexOf("?") < 0 ? "?" : "&") + "since=" + since; }
  var POLL_MS = 700;
  var stopped = false;

  function say(text, kind) {
    var main = document.querySelector("main.content") || document.body;
    var el = document.querySelector("[data-testid=device-message]");
    if (!el) {
      el = document.createElement("div");
      el.setAttribute("data-testid", "device-message");
      el.setAttribute("role", "status");
      main.insertBefore(el, main.firstChild);
    }
    el.className = "flash " + kind;
    el.textContent = text;
  }

  function fill(text) {
    var input = document.querySelector("[data-qr-fill]");
    if (!input) { return; }
    input.value = text;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.focus();
    var old = document.querySelector("[data-testid=device-message]");
    if (old) { old.remove(); }
  }

  function capture() {
    var button = document.querySelector("[data-panel-capture], [data-testid=capture]");
    if (button && !button.disabled) { stopped = true; button.click(); }
  }

  function handle(ev) {
    if (ev.kind === "qr" && typeof ev.text === "string") { fill(ev.text); }
    else if (ev.kind === "qr_error" && ev.message) { say(ev.message, "error"); }
    else if (ev.kind === "capture") { capture(); }
  }

  function poll() {
    if (stopped) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { events: [] }; })
      .then(function (data) { (data.events || []).forEach(handle); })
      .catch(function () { /* the next poll retries */ })
      .then(function () { if (!stopped) { window.setTimeout(poll, POLL_MS); } });
  }

  window.addEventListener("beforeunload", function () { stopped = true; });
  poll();
})();
