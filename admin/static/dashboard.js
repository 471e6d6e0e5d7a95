/* Draws the dashboard's charts from the JSON the server put in #chart-data (window.Chart: vendor/chart.umd.min.js). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var palette = ["#2f6fde", "#e8743b", "#19a979", "#ed4a7b", "#945ecf", "#13a4b4", "#525df4", "#bf399e",
                 "#6c8893", "#ee6868", "#2f6497", "#c9a227"];
  var charts = {};
  Chart.defaults.animation = false;  // drawn at once: screenshots and tests see the final picture
  Chart.defaults.font.size = 11;

  function percent(value) { return value === null ? null : Math.round(value * 1000) / 10; }

  charts.volume = new Chart(document.getElementById("volume-chart"), {
    type: "bar",
    data: {
      labels: data.volume.days,
      datasets: Object.keys(data.volume.series).map(function (category, i) {
        return { label: category, data: data.volume.series[category], backgroundColor: palette[i % palette.length] };
      })
    },
    options: { responsive: true, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
  });

  charts.automation = new Chart(document.getElementById("automation-chart"), {
    type: "line",
    data: { labels: data.automation.days,
            datasets: [{ label: "auto-routed %", data: data.automation.rate.map(percent), borderColor: palette[0],
                         backgroundColor: palette[0], spanGaps: true, tension: 0.2 }] },
    options: { responsive: true, scales: { y: { min: 0, max: 100 } }, plugins: { legend: { display: false } } }
  });

  function accuracyChart(name) {
    var rows = data.accuracy[name];
    return new Chart(document.getElementById("accuracy-" + name + "-chart"), {
      type: "bar",
      data: { labels: rows.map(function (r) { return r.key; }),
              datasets: [{ label: "accuracy %", data: rows.map(function (r) { return percent(r.rate); }),
                           backgroundColor: palette[2] }] },
      options: { responsive: true, indexAxis: "y", scales: { x: { min: 0, max: 100 } },
                 plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: function (ctx) {
                   var r = rows[ctx.dataIndex]; return r.right + " of " + r.judged + " judged right"; } } } } }
    });
  }
  ["category", "language", "tier"].forEach(function (name) { charts["accuracy-" + name] = accuracyChart(name); });
  var driftCanvas = document.getElementById("drift-chart");
  if (driftCanvas) {
    charts.drift = new Chart(driftCanvas, {
      type: "line",
      data: { labels: data.drift.labels,
              datasets: Object.keys(data.drift.series).map(function (metric, i) {
                return { label: metric, data: data.drift.series[metric], borderColor: palette[i % palette.length],
                         backgroundColor: palette[i % palette.length], spanGaps: true };
              }) },
      options: { responsive: true, scales: { y: { beginAtZero: true } } }
    });
  }
  window.triageCharts = charts;  // for tests and the console
})();
