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
    document.body.setAttribute("data-selftest", verdicts.join(" "));
  }
  var body = document.body;
  body.setAttribute("data-charts", String(document.querySelectorAll("svg.chart").length));
  body.setAttribute("data-table-rows", String(document.querySelectorAll("table.sortable tbody tr").length));
  body.setAttribute("data-errors", (window.__memsleuthErrors || []).join(" | "));
  body.setAttribute("data-ok", (window.__memsleuthErrors || []).length ? "0" : "1");
})();
