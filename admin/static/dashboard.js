/* The dashboard's charts (window.Chart: vendor/chart.umd.min.js), drawn from the JSON in #chart-data, and the
   refresh in place: every REFRESH_MS the page fetches data.json (same query string, so a notice keeps being
   read back) and redraws the charts and the server-rendered parts ([data-part]) without reloading. A part the
   reviewer is using (focus inside, or a select, away date or search text changed) is left alone until they are
   done. Paging and filters are plain links and GET forms: the page's query string is the tables' state, so the
   refresh, which asks with the same query, shows the same page of each table. */
(function () {
  "use strict";
  var REFRESH_MS = 15000;
  var palette = ["#2f6fde", "#e8743b", "#19a979", "#ed4a7b", "#945ecf", "#13a4b4", "#525df4", "#bf399e",
                 "#6c8893", "#ee6868", "#2f6497", "#c9a227"];
  var charts = {};
  Chart.defaults.animation = false;  // drawn at once: screenshots and tests see the final picture
  Chart.defaults.font.size = 11;

  function percent(value) { return value === null ? null : Math.round(value * 1000) / 10; }

  // an accuracy bar's figure written at its end ("57.1% (4 of 7)"); a bar at 0% is still drawn, as a sliver
  // (minBarLength), so a segment the model gets all wrong does not look like a missing one
  var barValues = { id: "barValues", afterDatasetsDraw: function (chart) {
    var dataset = chart.data.datasets[0], rows = dataset.rows || [], ctx = chart.ctx, drawn = [];
    ctx.save();
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    chart.getDatasetMeta(0).data.forEach(function (bar, i) {
      var value = dataset.data[i];
      if (value === null || value === undefined) { return; }
      var text = value + "%" + (rows[i] ? " (" + rows[i].right + " of " + rows[i].judged + ")" : "");
      var width = ctx.measureText(text).width, inside = bar.x + 6 + width > chart.chartArea.right;
      ctx.fillStyle = inside ? "#fff" : "#1d2430";
      ctx.fillText(text, inside ? bar.x - 6 - width : bar.x + 6, bar.y);
      drawn.push(text);
    });
    ctx.restore();
    chart.$barValues = drawn;  // what the bars say, for tests and the console
  } };

  function volumeData(volume) {
    return { labels: volume.days, datasets: Object.keys(volume.series).map(function (category, i) {
      return { label: category, data: volume.series[category], backgroundColor: palette[i % palette.length] };
    }) };
  }
  function automationData(automation) {
    return { labels: automation.days, datasets: [{ label: "auto-routed and written %",
      data: automation.rate.map(percent), borderColor: palette[0], backgroundColor: palette[0], spanGaps: true,
      tension: 0.2 }] };
  }
  function accuracyData(rows) {
    return { labels: rows.map(function (r) { return r.key + " (n=" + r.judged + ")"; }),
             datasets: [{ label: "accuracy %", data: rows.map(function (r) { return percent(r.rate); }),
                          backgroundColor: palette[2], minBarLength: 4, rows: rows }] };
  }
  function driftData(drift) {
    return { labels: drift.labels, datasets: Object.keys(drift.series).map(function (metric, i) {
      return { label: metric, data: drift.series[metric], borderColor: palette[i % palette.length],
               backgroundColor: palette[i % palette.length], spanGaps: true };
    }) };
  }

  function draw(data) {
    charts.volume = new Chart(document.getElementById("volume-chart"), { type: "bar", data: volumeData(data.volume),
      options: { responsive: true,
                 scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } } });
    charts.automation = new Chart(document.getElementById("automation-chart"), { type: "line",
      data: automationData(data.automation),
      options: { responsive: true, scales: { y: { min: 0, max: 100 } }, plugins: { legend: { display: false } } } });
    ["category", "language", "tier"].forEach(function (name) {
      charts["accuracy-" + name] = new Chart(document.getElementById("accuracy-" + name + "-chart"), { type: "bar",
        data: accuracyData(data.accuracy[name]),
        options: { responsive: true, indexAxis: "y", scales: { x: { min: 0, max: 100 } },
                   plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: function (ctx) {
                     var r = data.accuracy[name][ctx.dataIndex];
                     return r.right + " of " + r.judged + " confirmed tickets right"; } } } } },
        plugins: [barValues] });
    });
    charts.drift = new Chart(document.getElementById("drift-chart"), { type: "line", data: driftData(data.drift),
      options: { responsive: true, scales: { y: { beginAtZero: true } } } });
  }

  function redraw(data) {
    charts.volume.data = volumeData(data.volume);
    charts.automation.data = automationData(data.automation);
    ["category", "language", "tier"].forEach(function (name) {
      var chart = charts["accuracy-" + name];
      chart.data = accuracyData(data.accuracy[name]);
      chart.options.plugins.tooltip.callbacks.afterLabel = function (ctx) {
        var r = data.accuracy[name][ctx.dataIndex];
        return r.right + " of " + r.judged + " confirmed tickets right";
      };
    });
    charts.drift.data = driftData(data.drift);
    document.getElementById("drift-chart").hidden = data.drift.labels.length === 0;
    Object.keys(charts).forEach(function (key) { charts[key].update(); });
  }

  function busy(part) {
    return part.contains(document.activeElement) || part.querySelector("[data-changed]") !== null;
  }

  function refresh() {
    if (document.hidden) { return; }
    fetch("data.json" + window.location.search, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status === 401 ? "logged out: reload the page" : "HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (payload) {
        redraw(payload.charts);
        document.querySelectorAll("[data-part]").forEach(function (part) {
          var html = payload.sections[part.getAttribute("data-part")];
          if (html !== undefined && html !== part.innerHTML && !busy(part)) { part.innerHTML = html; }
        });
        document.getElementById("updated").textContent = payload.updated;
        document.getElementById("updated-line").classList.remove("stale");
        window.triageRefreshes = (window.triageRefreshes || 0) + 1;
        document.body.setAttribute("data-refreshes", String(window.triageRefreshes));
      })
      .catch(function (error) {
        var line = document.getElementById("updated-line");
        line.classList.add("stale");
        line.title = "refresh failed: " + error.message;
      });
  }

  // the route form: the group and assignee the routing file gives the chosen category
  document.addEventListener("change", function (event) {
    var select = event.target;
    // a date being typed into an away form is kept until it is sent
    // and so is a failed item ticked for a bulk retry or drop
    if (select.matches && select.matches("form.away input, input.pick")) { select.setAttribute("data-changed", "1"); return; }
    // a table's filter: a choice applies at once (the form is a plain GET: the new URL carries the state, and
    // every refresh after asks data.json with it); typed search text waits for Enter or the button
    if (select.matches && select.matches("form.filters select")) { select.form.requestSubmit(); return; }
    if (select.matches && select.matches("form.filters input")) { select.setAttribute("data-changed", "1"); return; }
    if (!select.matches || !select.matches("form.route select")) { return; }
    select.setAttribute("data-changed", "1");
    var option = select.options[select.selectedIndex];
    select.form.querySelector(".route-info").textContent = option ? option.getAttribute("data-routing") : "";
  });
  // dropping a dead letter cannot be undone: ask first (the form works without this script too)
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  draw(JSON.parse(document.getElementById("chart-data").textContent));
  window.triageCharts = charts;  // for tests and the console
  document.body.setAttribute("data-drawn", "1");  // tests wait for it with a selector (the CSP forbids eval)
  window.triageRefresh = refresh;
  window.setInterval(refresh, REFRESH_MS);
})();
