// Charts from the vendored Chart.js 4 (static/vendor/chartjs/): every <canvas data-chart="ID">
// is drawn from the JSON in <script id="ID" type="application/json"> (Django's json_script):
//   {"type": "bar", "labels": [...], "datasets": [{"label": "...", "data": [...]}], "stacked": true}
// Colours come from the theme's custom properties (--chart-1 … --chart-6, --text, --muted,
// --border in hub.css), read again and redrawn when the theme switches between light and dark.
// A dataset with "dashed": true is drawn dashed (a previous period). Canvases that htmx brings in
// later (a dashboard's tiles) are drawn when they arrive; charts whose canvas left the page are
// let go.
(function () {
  "use strict";
  if (!window.Chart) return;
  var SERIES = 6;
  var charts = [];

  function theme() {
    var css = getComputedStyle(document.documentElement);
    var read = function (name) { return css.getPropertyValue(name).trim(); };
    var series = [];
    for (var i = 1; i <= SERIES; i++) series.push(read("--chart-" + i));
    return { series: series, text: read("--text"), muted: read("--muted"), grid: read("--border"), surface: read("--surface") };
  }

  function options(spec, colours, animate) {
    var axis = function (stacked) {
      return {
        stacked: stacked,
        ticks: { color: colours.muted, precision: 0 },
        grid: { color: colours.grid },
        border: { color: colours.grid },
      };
    };
    var reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduced || !animate ? false : { duration: 300 },
      scales: { x: axis(!!spec.stacked), y: Object.assign(axis(!!spec.stacked), { beginAtZero: true }) },
      plugins: {
        legend: { labels: { color: colours.text } },
        tooltip: { backgroundColor: colours.text, titleColor: colours.surface, bodyColor: colours.surface },
      },
    };
  }

  function draw(item) {
    var colours = theme();
    var first = !item.chart;
    if (!first) item.chart.destroy();  // drawn again from scratch in the theme's colours
    item.chart = new window.Chart(item.canvas, {
      type: item.spec.type || "bar",
      data: {
        labels: item.spec.labels,
        datasets: item.spec.datasets.map(function (d, i) {
          var colour = colours.series[i % SERIES];
          return { label: d.label, data: d.data, backgroundColor: colour, borderColor: colour, borderDash: d.dashed ? [6, 4] : [] };
        }),
      },
      options: options(item.spec, colours, first),
    });
    item.canvas.setAttribute("data-chart-drawn", document.documentElement.getAttribute("data-theme") || "");
  }

  function scan(root) {
    charts = charts.filter(function (item) {
      if (item.canvas.isConnected) return true;
      item.chart.destroy();
      return false;
    });
    var found = root.matches && root.matches("canvas[data-chart]") ? [root] : [];
    (root.querySelectorAll ? root.querySelectorAll("canvas[data-chart]") : []).forEach(function (c) { found.push(c); });
    found.forEach(function (canvas) {
      if (canvas.hasAttribute("data-chart-drawn")) return;
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) return;
      var item = { canvas: canvas, spec: JSON.parse(source.textContent), chart: null };
      draw(item);
      charts.push(item);
    });
  }

  scan(document);
  document.addEventListener("htmx:load", function (event) { scan(event.detail.elt); });

  // The theme toggle (hub.js) sets <html data-theme>: redraw in the new colours.
  new MutationObserver(function () { charts.forEach(draw); })
    .observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
})();
