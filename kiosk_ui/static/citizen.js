/* Citizen self-service: the idle warning ("Bạn cần thêm thời gian?") that ends the session when
   nobody answers, and the on-screen keypad of the dossier look-up. No external libraries. */
(function () {
  "use strict";
  var body = document.body;

  // Idle: after (limit - warn) seconds without a touch, ask; at the limit, end the session.
  if (body.dataset.citizenIdle) {
    var limit = parseInt(body.dataset.citizenIdle, 10) * 1000;
    var warn = Math.min(20000, Math.max(1000, Math.floor(limit / 3)));
    var box = document.querySelector(".idle-warning");
    var count = box ? box.querySelector(".idle-count") : null;
    var last = Date.now();
    var ended = false;
    var reset = function () {
      last = Date.now();
      if (box) { box.hidden = true; }
    };
    // any touch, key or scroll counts as activity; once the question shows, only its answer does
    ["pointerdown", "keydown", "scroll", "touchstart"].forEach(function (ev) {
      window.addEventListener(ev, function () {
        if (!box || box.hidden) { last = Date.now(); }
      }, { passive: true });
    });
    var more = box ? box.querySelector("[data-idle-more]") : null;
    if (more) {
      more.addEventListener("click", function () {
        reset();
        // the server counts idle time too: tell it the citizen is still here
        fetch(body.dataset.aliveUrl, { method: "POST", credentials: "same-origin",
                                        headers: { "X-CSRF-Token": body.dataset.csrf } }).catch(function () {});
      });
    }
    setInterval(function () {
      if (ended) { return; }
      var idle = Date.now() - last;
      if (idle > limit) {
        ended = true;
        window.location.assign(body.dataset.idleUrl);
        return;
      }
      if (box && idle > limit - warn) {
        if (box.hidden) { box.hidden = false; }
        if (count) {
          count.textContent = box.dataset.body.replace("{s}", String(Math.max(0, Math.ceil((limit - idle) / 1000))));
        }
      }
    }, 250);
  }

  // Keypad: each key types into the look-up field; the field stays editable by the QR reader.
  document.querySelectorAll(".keypad").forEach(function (pad) {
    var input = document.getElementById(pad.dataset.for);
    if (!input) { return; }
    pad.addEventListener("click", function (e) {
      var key = e.target.closest("button[data-key]");
      if (!key) { return; }
      e.preventDefault();
      var k = key.dataset.key;
      if (k === "back") { input.value = input.value.slice(0, -1); }
      else if (k === "clear") { input.value = ""; }
      else if (input.value.length + k.length <= (input.maxLength > 0 ? input.maxLength : 200)) { input.value += k; }
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
})();
