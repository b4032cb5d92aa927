// The review screen's page viewer: zoom buttons and click to enlarge (no inline script: CSP 'self').
(function () {
  "use strict";
  var STEP = 0.25, MIN = 0.5, MAX = 4;

  function setZoom(viewer, value) {
    var z = Math.min(MAX, Math.max(MIN, value));
    viewer.dataset.zoomLevel = String(z);
    viewer.style.setProperty("--zoom", String(z));
  }

  function init(viewer) {
    setZoom(viewer, 1);
    viewer.addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-zoom-step]");
      if (btn) {
        ev.preventDefault();
        var step = Number(btn.dataset.zoomStep);
        setZoom(viewer, step === 0 ? 1 : Number(viewer.dataset.zoomLevel) + step * STEP);
        return;
      }
      if (ev.target.classList.contains("zoom-img")) {
        viewer.classList.toggle("enlarged");
        if (!viewer.classList.contains("enlarged")) setZoom(viewer, 1);
      }
    });
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    document.querySelectorAll(".page-viewer.enlarged").forEach(function (v) { v.classList.remove("enlarged"); });
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-zoom]").forEach(init);
  });
})();
