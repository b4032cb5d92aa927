/* sohoa-edge kiosk behaviour: PIN pad, live ID validation, live preview, progress polling,
   citizen idle timeout, confirmations and busy overlays. No external libraries. */
(function () {
  "use strict";
  var body = document.body;

  function busy(text) {
    var el = document.createElement("div");
    el.className = "busy-overlay";
    el.setAttribute("role", "status");
    el.textContent = text;
    body.appendChild(el);
  }

  // PIN pads: digits, backspace, submit.
  document.querySelectorAll(".pinpad").forEach(function (pad) {
    var form = pad.closest("form");
    var input = form.querySelector("input[name=" + pad.dataset.target + "]");
    pad.addEventListener("click", function (ev) {
      var key = ev.target.closest(".key");
      if (!key) { return; }
      var k = key.dataset.key;
      if (k === "⌫") { input.value = input.value.slice(0, -1); }
      else if (k === "✓") { form.requestSubmit(); }
      else if (input.value.length < 16) { input.value += k; }
      input.focus();
    });
  });

  // Busy overlay on long form posts (card checks, capture, signing).
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function () { busy(form.dataset.busy); });
  });

  // Confirm destructive buttons.
  document.querySelectorAll("[data-confirm]").forEach(function (btn) {
    btn.addEventListener("click", function (ev) {
      if (!window.confirm(btn.dataset.confirm)) { ev.preventDefault(); }
    });
  });

  // Live identifier validation.
  document.querySelectorAll("input[data-validate]").forEach(function (input) {
    var out = document.getElementById(input.getAttribute("aria-describedby"));
    var timer = null;
    function check() {
      var value = input.value.trim();
      if (!value) { out.textContent = ""; input.classList.remove("valid", "invalid"); return; }
      fetch(input.dataset.validate + "?value=" + encodeURIComponent(value), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          out.textContent = data.message;
          out.className = "feedback " + (data.ok ? "ok" : "bad");
          input.classList.toggle("valid", data.ok);
          input.classList.toggle("invalid", !data.ok);
        })
        .catch(function () { out.textContent = ""; });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 250); });
    if (input.value) { check(); }
  });

  // Live camera preview: load the next frame off-screen, swap it in when it has arrived
  // (no blank flashes), and ask for another about a second later.
  document.querySelectorAll("img.live-preview").forEach(function (img) {
    var wrap = img.parentNode;
    img.addEventListener("error", function () { wrap.classList.add("offline"); });
    img.addEventListener("load", function () { wrap.classList.remove("offline"); });
    var next = function () {
      setTimeout(function () {
        if (document.hidden) { next(); return; }
        var buf = new Image();
        buf.onload = function () { img.src = buf.src; next(); };
        buf.onerror = function () { wrap.classList.add("offline"); next(); };
        buf.src = img.dataset.src + "?t=" + Date.now();
      }, 1000);
    };
    next();
  });

  // Capture sources: one panel at a time; the choice is remembered for this tab across the post.
  var tabs = document.querySelectorAll(".source-tabs .tab");
  if (tabs.length) {
    var show = function (name) {
      var found = false;
      tabs.forEach(function (tab) {
        var on = tab.dataset.source === name;
        found = found || on;
        tab.classList.toggle("current", on);
        tab.setAttribute("aria-pressed", on ? "true" : "false");
      });
      if (!found) { name = "camera"; tabs[0].classList.add("current"); }
      document.querySelectorAll(".source-panel").forEach(function (panel) {
        panel.classList.toggle("hidden", panel.dataset.panel !== name);
      });
      try { sessionStorage.setItem("capture-source", name); } catch (e) { /* private mode */ }
    };
    tabs.forEach(function (tab) { tab.addEventListener("click", function () { show(tab.dataset.source); }); });
    var remembered = null;
    try { remembered = sessionStorage.getItem("capture-source"); } catch (e) { remembered = null; }
    show(remembered || "camera");
  }

  // Live quality control over the preview: the problems of the current frame with what to do.
  document.querySelectorAll(".qc-overlay[data-qc]").forEach(function (box) {
    var tick = function () {
      if (document.hidden || box.closest(".source-panel.hidden")) { setTimeout(tick, 1500); return; }
      fetch(box.dataset.qc, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (q) {
        box.textContent = "";
        box.className = "qc-overlay " + (q.offline ? "offline" : (q.ok ? (q.problems.length ? "warn" : "ok") : "bad"));
        if (q.offline) { return; }
        if (!q.problems.length) {
          var ok = document.createElement("p");
          ok.className = "qc-ok";
          ok.textContent = "✓ " + q.ok_text;
          box.appendChild(ok);
        }
        q.problems.forEach(function (p) {
          var line = document.createElement("p");
          line.className = "qc-problem " + p.severity;
          line.dataset.kind = p.kind;
          line.textContent = (p.severity === "blocking" ? "⛔ " : "⚠ ") + p.message;
          box.appendChild(line);
        });
      }).catch(function () { box.className = "qc-overlay offline"; }).then(function () { setTimeout(tick, 1500); });
    };
    tick();
  });

  // Page thumbnails: a click shows the page large (the link opens the image without script).
  var viewer = document.querySelector("dialog.page-viewer");
  if (viewer) {
    document.querySelectorAll("a.enlarge").forEach(function (link) {
      link.addEventListener("click", function (ev) {
        ev.preventDefault();
        viewer.querySelector("img").src = link.getAttribute("href");
        viewer.querySelector("img").alt = link.querySelector("img").alt;
        viewer.showModal();
      });
    });
    viewer.addEventListener("click", function (ev) { if (ev.target === viewer) { viewer.close(); } });
  }

  // Progress pages poll their job.
  if (body.dataset.poll) {
    var fill = document.getElementById("bar-fill");
    var stepText = document.getElementById("step-text");
    var showResult = body.dataset.showResult === "1";
    var poll = function () {
      fetch(body.dataset.poll, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (job) {
        fill.style.width = Math.round(100 * job.done / job.total) + "%";
        stepText.textContent = job.step_text;
        if (job.state === "running") { setTimeout(poll, 400); return; }
        if (job.state === "failed") {
          var err = document.getElementById("job-error");
          err.textContent = job.error + (job.remedy ? " — " + job.remedy : "");
          err.classList.remove("hidden");
          document.getElementById("job-retry").classList.remove("hidden");
          return;
        }
        if (showResult) {
          var ul = document.getElementById("job-results");
          Object.keys(job.result || {}).forEach(function (k) {
            var li = document.createElement("li");
            var v = job.result[k];
            li.className = v.indexOf("OK") === 0 ? "ok" : "bad";
            li.textContent = k + ": " + v;
            ul.appendChild(li);
          });
          ul.classList.remove("hidden");
          document.getElementById("job-back").classList.remove("hidden");
          return;
        }
        window.location.assign(job.done_url);
      }).catch(function () { setTimeout(poll, 1000); });
    };
    poll();
  }

  // Receipt screen: the documents' store / sync state, refreshed while the page is open.
  if (body.dataset.status) {
    setInterval(function () {
      if (document.hidden) { return; }
      fetch(body.dataset.status, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (st) {
        document.querySelectorAll("td[data-code]").forEach(function (td) {
          var text = st.documents[td.dataset.code];
          if (text) { td.textContent = text; }
        });
      }).catch(function () { /* offline: keep the last state shown */ });
    }, 5000);
  }

  // Citizen idle timeout: any touch, key or scroll resets it; then the session is ended.
  if (body.dataset.idleTimeout) {
    var limit = parseInt(body.dataset.idleTimeout, 10) * 1000;
    var last = Date.now();
    ["pointerdown", "keydown", "scroll", "touchstart"].forEach(function (ev) {
      window.addEventListener(ev, function () { last = Date.now(); }, { passive: true });
    });
    setInterval(function () {
      if (Date.now() - last > limit) { window.location.assign(body.dataset.idleUrl); }
    }, 500);
  }
})();
