// Draws each chart of the page with the vendored uPlot, from the JSON block under it.
// The page works without this file: every number is in the table beside the chart.
(function () {
  "use strict";
  var COLORS = ["#2356c7", "#d9822b", "#1a7f37", "#c9252d", "#7b4fc9", "#0f8b8d", "#9a6700", "#5b6475"];

  function seriesOf(spec, index) {
    var color = COLORS[index % COLORS.length];
    var s = { label: spec.label, stroke: color, width: 1.5, spanGaps: false };
    if (spec.kind === "bars") {
      s.fill = color + "cc";
      s.paths = uPlot.paths.bars({ size: [0.8, 40] });
      s.points = { show: false };
    }
    return s;
  }

  function draw(holder) {
    var block = document.getElementById(holder.getAttribute("data-chart"));
    if (!block) { return; }
    var data = JSON.parse(block.textContent);
    if (!data.x.length) { return; }
    var hasRight = data.series.some(function (s) { return s.axis === "right"; });
    // One time convention with the tables: UTC, 24-hour, ISO dates (2026-11-05, 11-05 14:00).
    var step = data.x.length > 1 ? data.x[1] - data.x[0] : 86400;
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function isoTick(ts, withHour) {
      var d = new Date(ts * 1e3);
      var day = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
      return withHour ? day.slice(5) + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) : day;
    }
    // Daily series: ISO dates; hourly ones: "MM-DD HH:MM". Room for the label decides the ticks' spacing.
    var hourly = step < 86400;
    var timeAxis = { space: hourly ? 100 : 95, values: function (u, ticks, space, incr) {
      return ticks.map(function (ts) { return isoTick(ts, hourly && incr < 86400); }); } };
    var axes = [timeAxis, { label: data.unit || "", size: 70, scale: "y",
                      values: data.percent ? function (u, vals) { return vals.map(function (v) { return v + "%"; }); } : undefined }];
    if (hasRight) { axes.push({ label: data.rightUnit || "", side: 1, scale: "right", size: 70, grid: { show: false } }); }
    // Counts start at 0 (a bar from 13,000 would mislead); percentages keep uPlot's own range.
    var fromZero = function (u, min, max) { return [0, max > 0 ? max * 1.05 : 1]; };
    var scales = { x: { time: true } };
    // Bars are centred on their bucket: half a bucket of room at each end keeps the edge bars whole.
    if (data.kind === "bars") {
      scales.x.range = function () { return [data.x[0] - step / 2, data.x[data.x.length - 1] + step / 2]; };
    }
    if (!data.percent) { scales.y = { range: fromZero }; scales.right = { range: fromZero }; }
    var opts = {
      width: Math.max(holder.clientWidth, 200),
      height: 260,
      // The tables are in UTC: so are the charts, whatever the browser's time zone.
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      series: [{}].concat(data.series.map(function (s, i) {
        var drawn = seriesOf({ label: s.label, kind: s.axis === "right" ? "line" : data.kind }, i);
        drawn.scale = s.axis === "right" ? "right" : "y";
        return drawn;
      })),
      axes: axes,
      scales: scales,
      legend: { live: true },
    };
    var columns = [data.x].concat(data.series.map(function (s) { return s.values; }));
    holder.textContent = "";
    new uPlot(opts, columns, holder);
  }

  function drawAll() {
    if (typeof uPlot === "undefined") { return; }
    var holders = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < holders.length; i++) { draw(holders[i]); }
    document.documentElement.setAttribute("data-charts-drawn", String(holders.length));
  }

  // The exports list follows its jobs without a reload: while one is pending or running, the page is
  // fetched again (same origin, the session's cookie) and its list replaces this one's.
  var POLL_MS = 2000;
  function followExports() {
    var list = document.getElementById("exports-list");
    if (!list || list.getAttribute("data-live") !== "1") { return; }
    window.setTimeout(function () {
      fetch(window.location.pathname + window.location.search, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (text) {
          if (text === null) { return; }
          var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("exports-list");
          if (!fresh) { return; }
          list.replaceWith(fresh);
          followExports();
        })
        .catch(function () { window.setTimeout(followExports, POLL_MS); });
    }, POLL_MS);
  }

  function start() {
    drawAll();
    followExports();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
