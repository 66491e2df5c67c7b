// zoo-oci site: search and the framework filter on the front page, copy buttons on a suite's
// page. Everything reads without this script; it only narrows and copies.
(function () {
  "use strict";
  var filters = document.getElementById("filters");
  if (filters) {
    filters.hidden = false;
    var q = document.getElementById("q");
    var fw = document.getElementById("framework");
    var shown = document.getElementById("shown");
    var total = document.querySelectorAll("tr[data-suite]").length;
    var apply = function () {
      var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
      var framework = fw.value;
      var visible = 0;
      document.querySelectorAll("[data-suite]").forEach(function (el) {
        var text = el.getAttribute("data-search") || "";
        var fws = (el.getAttribute("data-frameworks") || "").split(" ");
        var ok = words.every(function (w) { return text.indexOf(w) >= 0; }) &&
          (!framework || fws.indexOf(framework) >= 0);
        el.hidden = !ok;
        if (ok && el.tagName === "TR") visible += 1;
      });
      // A group with nothing left to show is hidden with its heading.
      document.querySelectorAll("section.task, section.modality").forEach(function (section) {
        section.hidden = !section.querySelector(".card:not([hidden])");
      });
      shown.textContent = visible === total ? "All " + total + " suites" : visible + " of " + total + " suites";
      var state = new URLSearchParams();
      if (q.value) state.set("q", q.value);
      if (framework) state.set("framework", framework);
      var hash = state.toString();
      if (("#" + hash) !== location.hash && (hash || location.hash)) {
        history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
      }
    };
    var initial = new URLSearchParams(location.hash.slice(1));
    if (initial.get("q")) q.value = initial.get("q");
    if (initial.get("framework")) fw.value = initial.get("framework");
    q.addEventListener("input", apply);
    fw.addEventListener("change", apply);
    filters.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
    if (q.value || fw.value) apply();
  }
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var text = source ? source.textContent : "";
      var done = function () {
        button.textContent = "Copied";
        button.setAttribute("data-copied", "yes");
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
      } else {
        fallback(text);
        done();
      }
    });
  });
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing to copy with */ }
    document.body.removeChild(area);
  }
})();
