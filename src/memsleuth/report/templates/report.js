/* memsleuth report: sortable tables; a self-check the headless test reads (data-ok). */
(function () {
  "use strict";
  function cellValue(row, i, numeric) {
    var cell = row.cells[i];
    if (!cell) { return numeric ? -Infinity : ""; }
    var v = cell.getAttribute("data-v");
    if (v === null) { v = cell.textContent; }
    if (numeric) { var n = parseFloat(v); return isNaN(n) ? -Infinity : n; }
    return v.toLowerCase();
  }
  function sortBy(table, th) {
    var i = th.cellIndex, numeric = th.classList.contains("n");
    var asc = th.getAttribute("aria-sort") !== (numeric ? "descending" : "ascending");
    var dir = numeric ? (asc ? -1 : 1) : (asc ? 1 : -1);
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, i, numeric), y = cellValue(b, i, numeric);
      return x < y ? -dir : x > y ? dir : 0;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener("click", function () { sortBy(table, th); });
      th.title = "Click to sort";
    });
  });
  /* Icicle zoom: a clicked frame fills the width; its ancestors stay full width. */
  Array.prototype.forEach.call(document.querySelectorAll("svg.icicle"), function (svg) {
    var W = parseFloat(svg.getAttribute("data-width")) || 1200;
    var nodes = Array.prototype.slice.call(svg.querySelectorAll("g.frame-node"));
    function zoom(g) {
      var zx = parseFloat(g.getAttribute("data-x")), zw = parseFloat(g.getAttribute("data-w"));
      var zd = parseInt(g.getAttribute("data-d"), 10);
      nodes.forEach(function (n) {
        var x = parseFloat(n.getAttribute("data-x")), w = parseFloat(n.getAttribute("data-w"));
        var d = parseInt(n.getAttribute("data-d"), 10);
        var inside = x >= zx - 1e-9 && x + w <= zx + zw + 1e-9;
        var above = d < zd && x <= zx + 1e-9 && x + w >= zx + zw - 1e-9;
        var nx = above ? 0 : (x - zx) / zw * W, nw = above ? W : w / zw * W;
        n.style.display = (inside || above) ? "" : "none";
        var rect = n.querySelector("rect"), text = n.querySelector("text");
        rect.setAttribute("x", nx.toFixed(1));
        rect.setAttribute("width", nw.toFixed(1));
        if (text) {
          var name = n.getAttribute("data-name") || "", chars = Math.floor((nw - 6) / 6.6);
          text.setAttribute("x", (nx + 3).toFixed(1));
          text.textContent = chars < 3 ? "" : (name.length <= chars ? name : name.slice(0, chars - 1) + "\u2026");
        }
      });
    }
    nodes.forEach(function (n) {
      n.style.cursor = "pointer";
      n.addEventListener("click", function () { zoom(n); });
    });
  });
  /* "#selftest": sort every table by its first numeric column, as a click would, and say
     whether the rows came out in order (read by the headless-browser test). */
  if (window.location.hash === "#selftest") {
    var verdicts = [];
    Array.prototype.forEach.call(tables, function (table) {
      var th = table.querySelector("th.n");
      if (!th || table.tBodies[0].rows.length < 2) { return; }
      th.click();
      var i = th.cellIndex, prev = Infinity, ok = true;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        var v = cellValue(r, i, true);
        if (v > prev) { ok = false; }
        prev = v;
      });
      verdicts.push((table.getAttribute("data-table") || "?") + ":" + (ok ? "sorted" : "unsorted"));
    });
    var icicleNodes = document.querySelectorAll("svg.icicle g.frame-node");
    if (icicleNodes.length > 1) {
      var narrow = Array.prototype.reduce.call(icicleNodes, function (a, b) {
        return parseFloat(b.getAttribute("data-w")) < parseFloat(a.getAttribute("data-w")) ? b : a;
      });
      narrow.dispatchEvent(new MouseEvent("click"));
      var r = narrow.querySelector("rect");
      var full = parseFloat(narrow.closest("svg").getAttribute("data-width"));
      verdicts.push("icicle:" + (Math.abs(parseFloat(r.getAttribute("width")) - full) < 1 &&
        narrow.getAttribute("data-w") < 0.5 ? "zoomed" : "not-zoomed"));
      icicleNodes[0].dispatchEvent(new MouseEvent("click"));
    }
    document.body.setAttribute("data-selftest", verdicts.join(" "));
  }
  var body = document.body;
  body.setAttribute("data-charts", String(document.querySelectorAll("svg.chart").length));
  body.setAttribute("data-table-rows", String(document.querySelectorAll("table.sortable tbody tr").length));
  body.setAttribute("data-errors", (window.__memsleuthErrors || []).join(" | "));
  body.setAttribute("data-ok", (window.__memsleuthErrors || []).length ? "0" : "1");
})();
