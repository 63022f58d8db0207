/* mrhost report: renders the JSON in #mrhost-data with Observable Plot (charts) and Grid.js
 * (tables), both inlined before this script. No network access: everything is in the page.
 * The DOM hooks (data-testid, data-*) are documented in host/assets/report/README.md. */
(function () {
  "use strict";

  var CLASSES = [
    { id: "access-denied", title: "Access denied", what: "the credentials lack a permission" },
    { id: "not-opted-in", title: "Not opted in", what: "the region is not enabled for the account" },
    { id: "throttled", title: "Throttled", what: "AWS kept throttling after the retries" },
    { id: "failed", title: "Failed", what: "any other error" }
  ];
  var SEVERITY = { high: { rank: 0, mark: "\u25B2", title: "High" },
                   medium: { rank: 1, mark: "\u25A0", title: "Medium" },
                   low: { rank: 2, mark: "\u25CF", title: "Low" } };
  // Okabe-Ito: distinguishable with every common colour-vision deficiency.
  var CHANGE = { added: { color: "#009E73", sign: "+" }, changed: { color: "#0072B2", sign: "~" },
                 removed: { color: "#D55E00", sign: "\u2212" } };
  var BAR_COLOR = "#21918c";   // viridis midpoint
  var PAGE_ROWS = 15;
  var MAX_BARS = 25;
  var LONG_CELL = 160;
  var MAX_LABEL = 26;          // characters of an axis label; the full text is in its title

  // ---- small helpers -------------------------------------------------------------------

  /** Builds an element; text children become text nodes (never parsed as HTML). */
  function h(tag, attrs) {
    var svg = tag.indexOf("svg:") === 0;
    var el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
                 : document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "class") el.setAttribute("class", v);
        else if (k === "text") el.textContent = v;
        else if (k.slice(0, 2) === "on" && typeof v === "function") el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(el, x); }); return; }
    el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
  function fmtInt(n) {
    return typeof n === "number" && isFinite(n) ? n.toLocaleString("en-US") : "\u2013";
  }
  function plural(n, one, many) { return fmtInt(n) + " " + (n === 1 ? one : (many || one + "s")); }
  function fmtTime(iso) {
    if (!iso) return "\u2013";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }
  function fmtDuration(s) {
    if (typeof s !== "number" || !isFinite(s)) return "\u2013";
    if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
  }
  /** A cell value as table text: nested JSON compact, null empty. */
  function cellValue(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return v;
    if (typeof v === "string") return v;
    if (typeof v === "boolean") return v ? "true" : "false";
    return JSON.stringify(v);
  }
  function valueText(v) {
    if (v === null || v === undefined) return null;
    return typeof v === "string" ? v : JSON.stringify(v);
  }
  function clip(s, n) { s = String(s); n = n || MAX_LABEL; return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }
  function slug(s) { return String(s).replace(/[^A-Za-z0-9_-]+/g, "-"); }
  function debounce(fn, ms) {
    var t = null;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  }
  function arr(x) { return Array.isArray(x) ? x : []; }
  function num(x) { return typeof x === "number" && isFinite(x) ? x : 0; }

  // ---- data ----------------------------------------------------------------------------

  function loadData() {
    var node = document.getElementById("mrhost-data");
    try {
      var d = JSON.parse(node ? node.textContent : "null");
      return d && typeof d === "object" ? d : null;
    } catch (e) {
      return null;
    }
  }

  var D = loadData();
  var app = document.getElementById("app");
  var filter = { account: null, region: null, type: null };
  var tableState = [];          // per-type table: {t, card, holder, accountIdx, regionIdx, ...}
  var charts = [];              // {render: fn(width)} redrawn when the width changes
  var accounts = [];            // [{id, name, label}]
  var accountById = {};
  var noTable = null;           // shown when the type filter matches no table

  if (!D) {
    append(app, h("div", { class: "notice", "data-testid": "empty-inventory" },
      h("h2", { text: "No report data" }),
      h("p", { text: "This page is the report template without data: mrhost report fills it in." })));
    document.body.setAttribute("data-ready", "true");
    return;
  }

  ["accounts", "regions", "heatmap", "types", "history", "diff", "errors", "findings", "tables"]
    .forEach(function (k) { D[k] = arr(D[k]); });
  D.headline = D.headline || {};

  (function buildAccounts() {
    var seen = {};
    D.accounts.forEach(function (a) { if (a && a.id && !seen[a.id]) { seen[a.id] = 1; accounts.push({ id: String(a.id), name: a.name || null }); } });
    D.heatmap.forEach(function (c) { if (c.account && !seen[c.account]) { seen[c.account] = 1; accounts.push({ id: String(c.account), name: null }); } });
    var names = {};
    accounts.forEach(function (a) { if (a.name) names[a.name] = (names[a.name] || 0) + 1; });
    accounts.forEach(function (a) {
      a.label = a.name && names[a.name] === 1 ? a.name : (a.name ? a.name + " (" + a.id + ")" : a.id);
      a.full = a.name ? a.name + " (" + a.id + ")" : a.id;
      accountById[a.id] = a;
    });
    D.heatmap.forEach(function (c) { if (c.region && D.regions.indexOf(c.region) < 0) D.regions.push(c.region); });
  })();
  function accountFull(id) { return accountById[id] ? accountById[id].full : String(id); }
  function accountLabel(id) { return accountById[id] ? accountById[id].label : String(id); }

  var totalRows = num(D.headline.resources);
  var isEmpty = !D.at || (totalRows === 0 && D.tables.every(function (t) { return !num(t.total) && !arr(t.rows).length; }));

  // ---- page frame ----------------------------------------------------------------------

  (function masthead() {
    var meta = document.getElementById("masthead-meta");
    var src = document.getElementById("masthead-source");
    if (D.at) {
      append(meta, "Sync #" + D.at.id + " \u00B7 finished " + fmtTime(D.at.finished || D.at.started));
      if (D.since) append(meta, " \u00B7 changes since sync #" + D.since.id);
    } else {
      append(meta, "No sync stored yet");
    }
    append(src, D.source || "");
    if (D.generated_at) document.title = "mrhost report \u00B7 " + fmtTime(D.generated_at);
  })();

  var sections = [];
  function section(id, title, subtitle) {
    var head = h("div", { class: "section-head" }, h("h2", { id: id + "-title", text: title }),
      subtitle ? h("p", { text: subtitle }) : null);
    var el = h("section", { class: "section", id: id, "aria-labelledby": id + "-title" }, head);
    sections.push({ id: id, title: title });
    app.appendChild(el);
    return el;
  }

  // ---- headline ------------------------------------------------------------------------

  function stat(testid, label, value, note, cls) {
    return h("div", { class: "stat" + (cls ? " " + cls : "") },
      h("div", { class: "stat-label", text: label }),
      h("div", { class: "stat-value", "data-testid": testid, "data-value": value, text: fmtInt(value) }),
      note ? h("div", { class: "stat-note", text: note }) : null);
  }

  function renderHeadline() {
    var hl = D.headline;
    var box = h("div", { class: "headline", role: "group", "aria-label": "Headline counts" });
    var delta = null;
    if (D.since) {
      var k = { added: 0, changed: 0, removed: 0 };
      D.diff.forEach(function (d) { if (k[d.change] !== undefined) k[d.change]++; });
      delta = "+" + fmtInt(k.added) + " \u2212" + fmtInt(k.removed) + " ~" + fmtInt(k.changed) + " since #" + D.since.id;
    }
    box.appendChild(stat("headline-resources", "Resources", num(hl.resources), delta || (D.at ? "in sync #" + D.at.id : null)));
    box.appendChild(stat("headline-accounts", "Accounts", num(hl.accounts)));
    box.appendChild(stat("headline-regions", "Regions", num(hl.regions)));
    box.appendChild(stat("headline-types", "Types", num(hl.types)));
    var failed = num(hl.failed_units);
    box.appendChild(stat("headline-failed", "Failed units", failed,
      failed ? "see Failures" : (D.at ? "every unit succeeded" : null), failed ? "bad" : (D.at ? "good" : null)));
    var sync = h("div", { class: "stat sync", "data-testid": "last-sync" },
      h("div", { class: "stat-label", text: "Last sync" }));
    if (D.at) {
      var status = D.at.status || "";
      sync.appendChild(h("div", { class: "stat-value", text: fmtTime(D.at.finished || D.at.started) }));
      sync.appendChild(h("div", { class: "stat-note" }, "#" + D.at.id + " \u00B7 took " + fmtDuration(D.at.duration_s) + " ",
        status ? h("span", { class: "status-badge" + (status === "complete" ? "" : " warn"), text: status }) : null));
    } else {
      sync.appendChild(h("div", { class: "stat-value", text: "none" }));
    }
    box.appendChild(sync);
    app.appendChild(box);
  }

  function renderEmpty() {
    var title, lines;
    if (!D.at) {
      title = "This inventory is empty";
      lines = ["No sync has been stored in " + (D.source || "this database") + " yet, so there is nothing to report.",
               "Take an inventory into it first, then run mrhost report again."];
    } else {
      title = "Sync #" + D.at.id + " found no resources";
      lines = ["It finished " + fmtTime(D.at.finished || D.at.started) + " with status " + (D.at.status || "unknown") + "."];
      if (D.errors.length) lines.push("Some units failed: their errors are listed below.");
    }
    app.appendChild(h("div", { class: "card empty", "data-testid": "empty-inventory", role: "note" },
      h("div", { class: "empty-art", "aria-hidden": "true" }),
      h("h2", { text: title }),
      lines.map(function (l) { return h("p", { text: l }); })));
  }

  // ---- charts --------------------------------------------------------------------------

  var plotStyle = { fontSize: "12px", fontFamily: "inherit", background: "transparent", overflow: "visible" };

  function srTable(caption, headers, rows) {
    return h("div", { class: "sr-only" }, h("table", null, h("caption", { text: caption }),
      h("thead", null, h("tr", null, headers.map(function (x) { return h("th", { scope: "col", text: x }); }))),
      h("tbody", null, rows.map(function (r) {
        return h("tr", null, r.map(function (c, i) { return i === 0 ? h("th", { scope: "row", text: c }) : h("td", { text: c }); }));
      }))));
  }

  /** Makes an SVG element a keyboard-operable button. */
  function makeButton(node, label, onActivate) {
    node.setAttribute("tabindex", "0");
    node.setAttribute("role", "button");
    node.setAttribute("aria-label", label);
    node.addEventListener("click", onActivate);
    node.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); onActivate(ev); }
    });
  }

  /** A Plot `render` hook: gives each drawn element the datum's attributes. */
  function decorate(data, fn) {
    return function (index, scales, values, dimensions, context, next) {
      var g = next(index, scales, values, dimensions, context);
      var nodes = g ? g.querySelectorAll("rect,path,circle") : [];
      for (var k = 0; k < index.length && k < nodes.length; k++) fn(nodes[k], data[index[k]]);
      return g;
    };
  }


  function renderDistribution() {
    var sec = section("distribution", "Where the resources are",
      "Click a cell, an account or a region to filter the tables below; click a bar to pick a type.");
    var grid = h("div", { class: "grid-2" });
    sec.appendChild(grid);

    // heat map: account x region
    var heatCard = h("div", { class: "card" + (D.regions.length > 6 ? " wide" : "") });
    var heatCaption = "Resources per account and region";
    heatCard.appendChild(h("h3", { id: "heatmap-title", text: heatCaption }));
    heatCard.appendChild(h("p", { class: "sub", text: plural(accounts.length, "account") + " \u00D7 " + plural(D.regions.length, "region") + "; darker is more." }));
    var heatBox = h("div", { class: "chart", "data-testid": "heatmap", role: "group", "aria-labelledby": "heatmap-title" });
    var heatLegend = h("div", { class: "chart-legend", "aria-hidden": "true" });
    heatCard.appendChild(heatLegend);
    heatCard.appendChild(heatBox);
    var counts = {};
    D.heatmap.forEach(function (c) { counts[c.account + "\u0000" + c.region] = num(c.count); });
    var cells = [];
    accounts.forEach(function (a) {
      D.regions.forEach(function (r) {
        cells.push({ account: a.id, region: r, count: counts[a.id + "\u0000" + r] || 0 });
      });
    });
    heatCard.appendChild(srTable(heatCaption + " (rows: accounts, columns: regions)",
      ["Account"].concat(D.regions),
      accounts.map(function (a) {
        return [a.full].concat(D.regions.map(function (r) { return fmtInt(counts[a.id + "\u0000" + r] || 0); }));
      })));
    grid.appendChild(heatCard);

    var max = d3.max(cells, function (c) { return c.count; }) || 1;
    var colorOpts = { type: "sqrt", scheme: "viridis", reverse: true, domain: [0, max], label: "resources" };
    var color = Plot.scale({ color: colorOpts });
    function dark(count) { var c = d3.lab(color.apply(count)); return c.l < 58; }
    heatLegend.appendChild(Plot.legend({ color: Object.assign({}, colorOpts, { width: 240, ticks: 4, tickFormat: "~s" }), style: plotStyle, className: "legend" }));

    charts.push({ box: heatBox, render: function (width) {
      var maxc = width < 500 ? 14 : MAX_LABEL;
      var labelW = 16 + 7 * Math.min(maxc, d3.max(accounts, function (a) { return a.label.length; }) || 4);
      var avail = Math.max(200, width - labelW - 8);
      var cellW = Math.max(58, Math.min(150, avail / Math.max(1, D.regions.length)));
      var longest = d3.max(D.regions, function (r) { return r.length; }) || 4;
      var rotate = longest * 6.6 > cellW - 4;
      var marginBottom = rotate ? 14 + longest * 4.8 : 28;
      var rowH = 38;
      var svg = Plot.plot({
        width: Math.round(labelW + cellW * D.regions.length + 8),
        height: Math.round(8 + rowH * accounts.length + marginBottom),
        marginLeft: labelW, marginRight: 8, marginTop: 8, marginBottom: marginBottom,
        padding: 0, style: plotStyle,
        ariaLabel: heatCaption,
        ariaDescription: "Heat map; the same numbers are in the table that follows.",
        x: { domain: D.regions, label: null, tickSize: 0, tickRotate: rotate ? -35 : 0, axis: "bottom" },
        y: { domain: accounts.map(function (a) { return a.id; }), label: null, tickSize: 0,
             tickFormat: function (id) { return clip(accountLabel(id), maxc); } },
        color: colorOpts,
        marks: [
          Plot.cell(cells, { x: "region", y: "account", fill: function (d) { return d.count ? d.count : null; },
            inset: 1.5, rx: 4, render: decorate(cells, heatCell) }),
          Plot.cell(cells, { x: "region", y: "account", filter: function (d) { return !d.count; },
            fill: "var(--line)", inset: 1.5, rx: 4, render: decorate(cells, heatCell) }),
          // numbers on the cells, white on the dark end of the scale
          Plot.text(cells, { x: "region", y: "account", text: function (d) { return fmtInt(d.count); },
            filter: function (d) { return d.count && dark(d.count); }, fill: "white", fontWeight: 600, ariaHidden: true }),
          Plot.text(cells, { x: "region", y: "account", text: function (d) { return fmtInt(d.count); },
            filter: function (d) { return d.count && !dark(d.count); }, fill: "black", fontWeight: 600, ariaHidden: true }),
          Plot.text(cells, { x: "region", y: "account", text: function () { return "0"; },
            filter: function (d) { return !d.count; }, fill: "var(--faint)", ariaHidden: true })
        ]
      });
      // axis labels are filters too
      svg.querySelectorAll('g[aria-label="y-axis tick label"] text').forEach(function (t, i) {
        var a = accounts[i];
        if (!a) return;
        t.setAttribute("class", "axis-link");
        t.setAttribute("data-filter-account", a.id);
        t.appendChild(h("svg:title", { text: a.full + ": filter the tables by this account" }));
        makeButton(t, "Filter the tables by account " + a.full, function () { toggleFilter({ account: a.id, region: null }); });
      });
      svg.querySelectorAll('g[aria-label="x-axis tick label"] text').forEach(function (t, i) {
        var r = D.regions[i];
        if (!r) return;
        t.setAttribute("class", "axis-link");
        t.setAttribute("data-filter-region", r);
        makeButton(t, "Filter the tables by region " + r, function () { toggleFilter({ account: null, region: r }); });
      });
      return svg;
    } });

    function heatCell(node, d) {
      node.setAttribute("class", "hit");
      node.setAttribute("data-account", d.account);
      node.setAttribute("data-region", d.region);
      node.setAttribute("data-count", d.count);
      var label = accountFull(d.account) + " in " + d.region + ": " + plural(d.count, "resource");
      node.appendChild(h("svg:title", { text: label }));
      makeButton(node, label + ". Filter the tables.", function () { toggleFilter({ account: d.account, region: d.region }); });
    }

    // bars per type
    var typeCard = h("div", { class: "card" + (D.regions.length > 6 ? " wide" : "") });
    var typeCaption = "Resources per type";
    typeCard.appendChild(h("h3", { id: "types-title", text: typeCaption }));
    var types = D.types.slice().sort(function (a, b) { return num(b.count) - num(a.count) || String(a.type).localeCompare(String(b.type)); });
    typeCard.appendChild(h("p", { class: "sub", text: plural(types.length, "type") + ", largest first." }));
    var barBox = h("div", { class: "chart", "data-testid": "type-bars", role: "group", "aria-labelledby": "types-title" });
    typeCard.appendChild(barBox);
    var showAll = false;
    var more = null;
    if (types.length > MAX_BARS) {
      more = h("button", { class: "btn", type: "button", text: "Show all " + types.length + " types",
        onclick: function () { showAll = !showAll; more.textContent = showAll ? "Show the largest " + MAX_BARS : "Show all " + types.length + " types"; redraw(true); } });
      typeCard.appendChild(h("p", { class: "chart-hint" }, more));
    }
    typeCard.appendChild(srTable(typeCaption, ["Type", "Resources", "Description"], types.map(function (t) {
      return [t.type, fmtInt(num(t.count)), t.description || ""];
    })));
    grid.appendChild(typeCard);

    charts.push({ box: barBox, render: function (width) {
      var shown = showAll ? types : types.slice(0, MAX_BARS);
      var maxc = width < 500 ? 16 : MAX_LABEL;
      var labelW = 14 + 7 * Math.min(maxc, d3.max(shown, function (t) { return String(t.type).length; }) || 4);
      var maxCount = d3.max(shown, function (t) { return num(t.count); }) || 1;
      var svg = Plot.plot({
        width: Math.max(260, width), height: 10 + 26 * shown.length,
        marginLeft: labelW, marginRight: 56, marginTop: 4, marginBottom: 6,
        style: plotStyle, ariaLabel: typeCaption,
        ariaDescription: "Bar chart; the same numbers are in the table that follows.",
        x: { axis: null, domain: [0, maxCount] },
        y: { domain: shown.map(function (t) { return t.type; }), label: null, tickSize: 0, padding: 0.22, tickFormat: function (t) { return clip(t, maxc); } },
        marks: [
          Plot.barX(shown, { x: function (t) { return num(t.count); }, y: "type", fill: BAR_COLOR, rx: 3,
            render: decorate(shown, typeBar) }),
          Plot.text(shown, { x: function (t) { return num(t.count); }, y: "type", text: function (t) { return fmtInt(num(t.count)); },
            dx: 6, textAnchor: "start", fill: "currentColor", ariaHidden: true })
        ]
      });
      svg.querySelectorAll('g[aria-label="y-axis tick label"] text').forEach(function (t, i) {
        var ty = shown[i];
        if (!ty) return;
        t.setAttribute("class", "axis-link");
        t.setAttribute("data-filter-type", ty.type);
        t.appendChild(h("svg:title", { text: ty.type + ": show only this table" }));
        makeButton(t, "Show only the " + ty.type + " table", function () { toggleFilter({ type: ty.type }); });
      });
      return svg;
    } });

    function typeBar(node, t) {
      node.setAttribute("class", "hit");
      node.setAttribute("data-type", t.type);
      node.setAttribute("data-count", num(t.count));
      var label = t.type + ": " + plural(num(t.count), "resource") + (t.description ? " (" + t.description + ")" : "");
      node.appendChild(h("svg:title", { text: label }));
      makeButton(node, label + ". Show only this table.", function () { toggleFilter({ type: t.type }); });
    }
  }

  function renderChanges() {
    var sub = D.since ? "Sync #" + D.since.id + " (" + fmtTime(D.since.finished || D.since.started) + ") to sync #" + (D.at ? D.at.id : "?")
                      : "Over the stored history";
    var sec = section("changes", "What changed", sub);
    var grid = h("div", { class: "history-grid" });
    sec.appendChild(grid);

    // per sync: added / changed / removed
    var hist = D.history.slice().sort(function (a, b) { return num(a.sync) - num(b.sync); });
    var baseline = null;
    if (hist.length && num(hist[0].removed) === 0 && num(hist[0].changed) === 0 &&
        num(hist[0].added) > 0 && num(hist[0].added) === num(hist[0].resources)) baseline = hist[0];
    var drawn = baseline ? hist.slice(1) : hist;
    var changeCard = h("div", { class: "card", "data-testid": "history", "data-syncs": hist.length });
    grid.appendChild(changeCard);
    changeCard.appendChild(h("h3", { id: "history-title", text: "Changes per sync" }));
    if (!hist.length) {
      changeCard.appendChild(h("p", { class: "muted", text: "No history is stored yet: changes appear after the second sync." }));
    } else {
      changeCard.appendChild(h("div", { class: "chart-legend", "aria-hidden": "true" }, ["added", "changed", "removed"].map(function (k) {
        return h("span", null, h("span", { class: "swatch", style: "background:" + CHANGE[k].color }), k);
      })));
      var changeBox = h("div", { class: "chart", role: "group", "aria-labelledby": "history-title" });
      changeCard.appendChild(changeBox);
      if (baseline) changeCard.appendChild(h("p", { class: "chart-hint", text: "Sync #" + baseline.sync + " is the first inventory (" + plural(num(baseline.added), "resource") + " added) and is left out of the chart." }));
      changeCard.appendChild(srTable("Changes per sync", ["Sync", "Finished", "Added", "Changed", "Removed", "Resources"],
        hist.map(function (x) { return ["#" + x.sync, fmtTime(x.finished), fmtInt(num(x.added)), fmtInt(num(x.changed)), fmtInt(num(x.removed)), fmtInt(num(x.resources))]; })));
      var long = [];
      drawn.forEach(function (x) {
        long.push({ sync: x.sync, kind: "added", value: num(x.added), finished: x.finished });
        long.push({ sync: x.sync, kind: "changed", value: num(x.changed), finished: x.finished });
        long.push({ sync: x.sync, kind: "removed", value: -num(x.removed), finished: x.finished });
      });
      if (!drawn.length) {
        changeBox.appendChild(h("p", { class: "muted", text: "Only one sync so far." }));
      } else {
        charts.push({ box: changeBox, render: function (width) {
          return Plot.plot({
            width: Math.max(260, width), height: 230, marginLeft: 44, marginBottom: 30, style: plotStyle,
            ariaLabel: "Resources added, changed and removed per sync",
            ariaDescription: "Stacked bars, removals below the axis; the numbers are in the table that follows.",
            x: { type: "band", domain: drawn.map(function (x) { return x.sync; }), label: null, tickFormat: function (s) { return "#" + s; } },
            y: { grid: true, label: null, tickFormat: function (v) { return fmtInt(Math.abs(v)); } },
            color: { domain: ["added", "changed", "removed"], range: [CHANGE.added.color, CHANGE.changed.color, CHANGE.removed.color] },
            marks: [
              Plot.barY(long, { x: "sync", y: "value", fill: "kind", inset: 1,
                title: function (d) { return "Sync #" + d.sync + " (" + fmtTime(d.finished) + "): " + fmtInt(Math.abs(d.value)) + " " + d.kind; } }),
              Plot.ruleY([0], { stroke: "currentColor", strokeOpacity: 0.5 })
            ]
          });
        } });
      }
    }

    // resources over time
    var totalCard = h("div", { class: "card" });
    grid.appendChild(totalCard);
    totalCard.appendChild(h("h3", { id: "total-title", text: "Resources per sync" }));
    if (hist.length < 2) {
      totalCard.appendChild(h("p", { class: "muted", text: hist.length ? "One sync: " + plural(num(hist[0].resources), "resource") + "." : "No history yet." }));
    } else {
      var totalBox = h("div", { class: "chart", role: "group", "aria-labelledby": "total-title" });
      totalCard.appendChild(totalBox);
      var first = num(hist[0].resources), last = num(hist[hist.length - 1].resources);
      totalCard.appendChild(h("p", { class: "chart-hint", text: "From " + fmtInt(first) + " at sync #" + hist[0].sync + " to " + fmtInt(last) + " at sync #" + hist[hist.length - 1].sync + "." }));
      totalCard.appendChild(srTable("Resources per sync", ["Sync", "Finished", "Resources"],
        hist.map(function (x) { return ["#" + x.sync, fmtTime(x.finished), fmtInt(num(x.resources))]; })));
      charts.push({ box: totalBox, render: function (width) {
        return Plot.plot({
          width: Math.max(240, width), height: 200, marginLeft: 48, marginBottom: 30, style: plotStyle,
          ariaLabel: "Resources per sync, from " + fmtInt(first) + " to " + fmtInt(last),
          x: { type: "point", domain: hist.map(function (x) { return x.sync; }), label: null, tickFormat: function (s) { return "#" + s; }, padding: 0.3 },
          y: { grid: true, label: null, nice: true, zero: false, tickFormat: "~s" },
          marks: [
            Plot.lineY(hist, { x: "sync", y: "resources", stroke: "#31688e", strokeWidth: 2 }),
            Plot.dot(hist, { x: "sync", y: "resources", fill: "#31688e", r: 3.5,
              title: function (d) { return "Sync #" + d.sync + " (" + fmtTime(d.finished) + "): " + plural(num(d.resources), "resource"); } })
          ]
        });
      } });
    }

    // the diff since --since
    var diffCard = h("div", { class: "card", style: "margin-top:16px" });
    sec.appendChild(diffCard);
    var byKind = { added: 0, changed: 0, removed: 0 };
    D.diff.forEach(function (d) { if (byKind[d.change] !== undefined) byKind[d.change]++; });
    var diffBox = h("div", { "data-testid": "diff-table", "data-rows": D.diff.length, "data-omitted": num(D.diff_omitted) });
    diffCard.appendChild(h("h3", { text: D.since ? "Resources changed since sync #" + D.since.id : "Resources changed" }));
    if (!D.since) {
      diffCard.appendChild(h("p", { class: "sub", text: "Run mrhost report with --since SYNC|TIME to list what changed, field by field." }));
      diffCard.appendChild(diffBox);
      return;
    }
    diffCard.appendChild(diffBox);
    // The badges inside the diff-table hook (its contract: [data-change][data-count] in it).
    diffBox.appendChild(h("div", { class: "diff-summary" }, ["added", "changed", "removed"].map(function (k) {
      return h("span", { class: "badge " + k, "data-change": k, "data-count": byKind[k] }, CHANGE[k].sign + " " + fmtInt(byKind[k]) + " " + k);
    })));
    if (!D.diff.length) {
      diffBox.appendChild(h("p", { class: "muted", text: "Nothing changed between the two syncs." }));
    } else {
      var rows = D.diff.map(function (d) {
        return [d.change, d.type, d.id, d.account, d.region, JSON.stringify(arr(d.fields))];
      });
      diffBox.appendChild(new TableView({
        label: "the changes", rows: rows, searchable: true, accountCol: 3,
        columns: function () {
          return [
            { name: "Change", formatter: function (c) { return gridjs.h("span", { className: "badge " + c }, (CHANGE[c] ? CHANGE[c].sign + " " : "") + c); } },
            { name: "Type" }, { name: "Resource", formatter: formatCell },
            { name: "Account", formatter: function (c) { return accountLabel(c); } },
            { name: "Region" },
            { name: "Fields", sort: false, formatter: renderFields }
          ];
        }
      }).el);
    }
    if (num(D.diff_omitted)) {
      diffCard.appendChild(h("p", { class: "omitted", text: fmtInt(num(D.diff_omitted)) + " more changes were left out of this page." }));
    }
  }

  function renderFields(json) {
    var fields;
    try { fields = JSON.parse(json); } catch (e) { fields = []; }
    if (!fields.length) return gridjs.h("span", { className: "cell-null" }, "\u2013");
    var gh = gridjs.h;
    function val(v, tag) {
      var t = valueText(v);
      return t === null ? gh("span", { className: "absent" }, "absent") : gh(tag, null, t.length > 200 ? t.slice(0, 200) + "\u2026" : t);
    }
    return gh("ul", { className: "fields" }, fields.map(function (f) {
      return gh("li", null, gh("code", null, f.path), ": ", val(f.before, "del"), " \u2192 ", val(f.after, "ins"));
    }));
  }

  // ---- failures ------------------------------------------------------------------------

  function renderErrors() {
    var n = D.errors.length;
    var sec = section("failures", "Failures", n ? plural(n, "unit") + " (type \u00D7 account \u00D7 region) failed; the rest of the report is complete without them."
                                               : "Every unit (type \u00D7 account \u00D7 region) succeeded.");
    var box = h("div", { class: "card", "data-testid": "errors", "data-count": n });
    sec.appendChild(box);
    var groups = {};
    D.errors.forEach(function (e) {
      var c = CLASSES.some(function (k) { return k.id === e["class"]; }) ? e["class"] : "failed";
      (groups[c] = groups[c] || []).push(e);
    });
    box.appendChild(h("div", { class: "classes" }, CLASSES.map(function (k) {
      var m = (groups[k.id] || []).length;
      return h("div", { class: "class-tile c-" + k.id + (m ? "" : " zero"), "data-class": k.id, "data-count": m },
        h("div", { class: "n", text: fmtInt(m) }), h("div", null, h("b", { text: k.title })), h("div", { class: "what", text: k.what }));
    })));
    if (!n) return;
    CLASSES.forEach(function (k) {
      var list = groups[k.id];
      if (!list) return;
      var holder = h("div");
      box.appendChild(h("div", { class: "error-group", "data-class": k.id, "data-count": list.length },
        h("h3", null, k.title, h("span", { class: "muted", text: plural(list.length, "unit") })), holder));
      holder.appendChild(new TableView({
        label: k.title.toLowerCase() + " units", searchable: list.length > 8, pageSize: 10, accountCol: 1,
        rows: list.map(function (e) { return [e.type || "", e.account || "", e.region || "", e.code || "", e.message || ""]; }),
        columns: function () {
          return [{ name: "Type" }, { name: "Account", formatter: function (c) { return accountLabel(c); } }, { name: "Region" },
                  { name: "Code" }, { name: "Message", formatter: longText }];
        }
      }).el);
    });
  }

  // ---- findings ------------------------------------------------------------------------

  function renderFindings() {
    var list = D.findings.slice().sort(function (a, b) {
      var ra = SEVERITY[a.severity] ? SEVERITY[a.severity].rank : 3, rb = SEVERITY[b.severity] ? SEVERITY[b.severity].rank : 3;
      return (num(b.count) > 0) - (num(a.count) > 0) || ra - rb || num(b.count) - num(a.count);
    });
    var hits = list.filter(function (f) { return num(f.count) > 0; });
    var sec = section("findings", "Findings", list.length ? plural(list.length, "check") + " ran; " + plural(hits.length, "check") + " found something."
                                                            : "No checks were run.");
    var box = h("div", { class: "findings", "data-testid": "findings", "data-count": list.length });
    sec.appendChild(box);
    var passed = [];
    list.forEach(function (f) {
      var sev = SEVERITY[f.severity] ? f.severity : "low";
      var count = num(f.count);
      var attrs = { class: "finding sev-" + sev, "data-finding-id": f.id, "data-count": count, "data-severity": sev };
      if (!count) {
        attrs["class"] = "passed-check";
        passed.push(h("li", attrs, h("span", { text: f.title || f.id }), f.description ? h("span", { class: "muted", text: " \u2013 " + f.description }) : null));
        return;
      }
      var body = h("div", { class: "finding-body" });
      var det = h("details", attrs,
        h("summary", null,
          h("span", { class: "badge " + sev, text: SEVERITY[sev].mark + " " + SEVERITY[sev].title }),
          h("span", { class: "title", text: f.title || f.id }),
          h("span", { class: "count" }, fmtInt(count), h("small", { text: count === 1 ? "resource" : "resources" })),
          f.description ? h("span", { class: "desc", text: f.description }) : null),
        body);
      var mounted = false;
      det.addEventListener("toggle", function () {
        if (!det.open || mounted) return;
        mounted = true;
        var rows = arr(f.rows);
        if (!rows.length) { body.appendChild(h("p", { class: "muted", text: "The check returned no rows to show." })); return; }
        if (rows.length < count) body.appendChild(h("p", { class: "omitted", text: "Showing " + fmtInt(rows.length) + " of " + fmtInt(count) + " rows." }));
        var holder = h("div");
        body.appendChild(holder);
        var fcols = arr(f.columns);
        holder.appendChild(new TableView({
          label: "these rows", searchable: rows.length > 8, pageSize: 10, accountCol: fcols.indexOf("_account"),
          rows: rows.map(function (r) { return arr(r).map(cellValue); }),
          columns: function () { return fcols.map(columnFor); }
        }).el);
      });
      box.appendChild(det);
    });
    if (passed.length) {
      box.appendChild(h("div", { class: "passed" }, h("b", { text: plural(passed.length, "check") + " found nothing:" }), h("ul", null, passed)));
    }
  }

  // ---- per-type tables -----------------------------------------------------------------

  function longText(c) {
    var s = String(c);
    return s.length > LONG_CELL ? gridjs.h("span", { className: "cell-long", title: s }, s) : s;
  }
  function formatCell(c) {
    if (c === "" || c === null || c === undefined) return gridjs.h("span", { className: "cell-null", "aria-label": "empty" }, "\u2013");
    if (typeof c === "number") return String(c);
    var s = String(c);
    if (s === "true" || s === "false") return gridjs.h("span", { className: "cell-bool" }, s);
    var json = (s[0] === "{" || s[0] === "[") && s.length > 1;
    if (json || s.length > LONG_CELL) {
      return gridjs.h("span", { className: (json ? "cell-json" : "") + (s.length > LONG_CELL ? " cell-long" : ""), title: s.length > LONG_CELL ? s : null }, s);
    }
    return s;
  }
  function columnFor(name) {
    var label = name === "_account" ? "account" : name === "_region" ? "region" : name;
    var col = { name: label, formatter: formatCell };
    if (name === "_account") col.formatter = function (c) { return c ? accountLabel(c) : formatCell(c); };
    return col;
  }

  /**
   * A searchable, sortable, paginated Grid.js table over `o.rows` (arrays of cell values).
   * The search box is ours: it narrows the rows given to a fresh Grid.js instance, keeping
   * the sort order (Grid.js' own search plugin can fail when several tables are on one
   * page: grid-js/gridjs#1458). `count` is the number of rows after filter and search.
   */
  function TableView(o) {
    var self = this;
    this.o = o;
    this.keyword = "";
    this.rows = o.rows || [];
    this.count = this.rows.length;
    this.hay = new WeakMap();
    this.el = h("div", { class: "table-view" });
    if (o.searchable) {
      var id = "search-" + (++TableView.seq);
      this.input = h("input", { type: "search", id: id, class: "table-search", autocomplete: "off", spellcheck: "false",
        placeholder: "Search " + o.label + "\u2026", "aria-label": "Search " + o.label });
      var again = debounce(function () { self.keyword = self.input.value; self.render(); }, 150);
      this.input.addEventListener("input", again);
      this.input.addEventListener("search", again);
      this.el.appendChild(h("div", { class: "table-tools" }, this.input,
        this.status = h("span", { class: "table-count", "aria-live": "polite" })));
    }
    this.box = h("div", { class: "table-box" });
    this.el.appendChild(this.box);
    this.render();
  }
  TableView.seq = 0;
  TableView.prototype.setRows = function (rows) { this.rows = rows; this.render(); };
  TableView.prototype.matches = function (row, words) {
    var hay = this.hay.get(row);
    if (hay === undefined) {
      var ac = this.o.accountCol;
      hay = row.map(function (c, i) { return (i === ac && c ? accountFull(c) : String(c)); }).join("\u0001").toLowerCase();
      this.hay.set(row, hay);
    }
    for (var i = 0; i < words.length; i++) if (hay.indexOf(words[i]) < 0) return false;
    return true;
  };
  TableView.prototype.render = function () {
    var self = this;
    var words = this.keyword.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = words.length ? this.rows.filter(function (r) { return self.matches(r, words); }) : this.rows;
    this.count = rows.length;
    try { if (this.grid) this.sort = this.grid.config.store.getState().sort || this.sort; } catch (e) { this.sort = null; }
    var sort = this.sort;
    this.box.textContent = "";
    this.grid = null;
    if (this.status) {
      this.status.textContent = words.length ? fmtInt(rows.length) + " of " + fmtInt(this.rows.length) + " match" : "";
    }
    if (this.o.onCount) this.o.onCount(rows.length);
    if (!rows.length) {
      this.box.appendChild(h("p", { class: "muted no-rows", text: this.rows.length ? "No rows match." : (this.o.emptyText || "No rows.") }));
      return;
    }
    var cols = this.o.columns();
    if (sort && sort.columns) {
      sort.columns.forEach(function (c) {
        if (cols[c.index] && cols[c.index].sort !== false) cols[c.index].sort = { direction: c.direction };
      });
    }
    var limit = this.o.pageSize || PAGE_ROWS;
    var target = h("div");
    this.box.appendChild(target);
    this.grid = new gridjs.Grid({
      columns: cols, data: rows, sort: true, autoWidth: false,
      pagination: rows.length > limit ? { limit: limit, summary: true } : false
    });
    this.grid.render(target);
    if (sort && sort.columns && sort.columns.length) {
      // Grid.js keeps the sort in its store: hand the old order to the new table.
      var keep = sort.columns.map(function (c) { return { index: c.index, direction: c.direction }; });
      try {
        this.grid.config.store.dispatch(function (state) { return Object.assign({}, state, { sort: { columns: keep } }); });
      } catch (e) { /* the new table is unsorted, which is still correct */ }
    }
  };

  function renderTables() {
    var sec = section("resources", "Resources", plural(totalRows, "resource") + " in " + plural(D.tables.length, "type") +
      ". Open a type to search and sort its rows.");
    var list = h("div", { class: "type-list" });
    sec.appendChild(list);
    noTable = h("p", { class: "notice", hidden: true });
    sec.appendChild(noTable);
    var described = {};
    D.types.forEach(function (t) { described[t.type] = t.description; });
    var maxTotal = d3.max(D.tables, function (t) { return num(t.total) || arr(t.rows).length; }) || 1;
    D.tables.forEach(function (t, i) {
      var cols = arr(t.columns);
      var rows = arr(t.rows).map(function (r) { return arr(r).map(cellValue); });
      var total = num(t.total) || rows.length;
      var st = { maxTotal: maxTotal,
        t: t, type: String(t.type), cols: cols, rows: rows, total: total, omitted: num(t.omitted),
        accountIdx: cols.indexOf("_account"), regionIdx: cols.indexOf("_region"),
        visible: rows.length, view: null
      };
      var countEl = h("span", { class: "tcount" });
      var holder = h("div", { class: "type-body" });
      var card = h("details", { class: "type-card", id: "type-" + slug(st.type), "data-testid": "table-" + st.type,
        "data-type": st.type, "data-total": total, "data-rows": rows.length, "data-visible-rows": rows.length },
        h("summary", null,
          h("span", { class: "tname" }, st.type, described[st.type] ? h("span", { class: "tdesc", text: described[st.type] }) : null),
          countEl,
          h("span", { class: "meter", "aria-hidden": "true" }, st.meter = h("span"))),
        holder);
      st.card = card; st.holder = holder; st.countEl = countEl;
      if (st.omitted) {
        var hint = t.query_hint || ("mrhost query \"SELECT * FROM " + st.type + "\"");
        var pre = h("pre", { text: hint });
        st.note = h("div", { class: "omitted", role: "note" },
          h("span", { text: "This page holds " + fmtInt(rows.length) + " of the " + fmtInt(total) + " " + st.type + " rows; " +
            fmtInt(st.omitted) + " were left out. Query all of them with:" }), pre,
          h("button", { class: "btn", type: "button", text: "Copy the command", onclick: function (ev) {
            var b = ev.currentTarget;
            var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy the command"; }, 1500); };
            if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(hint).then(done, function () { selectText(pre); });
            else selectText(pre);
          } }));
      }
      card.addEventListener("toggle", function () { if (card.open && !st.view) mountTable(st); });
      tableState.push(st);
      list.appendChild(card);
      if (i === 0) card.open = true;
    });
    applyFilter();
  }

  function selectText(node) {
    var r = document.createRange();
    r.selectNodeContents(node);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }

  function filteredRows(st) {
    if (filter.type && filter.type !== st.type) return [];
    return st.rows.filter(function (r) {
      if (filter.account && st.accountIdx >= 0 && r[st.accountIdx] !== filter.account) return false;
      if (filter.region && st.regionIdx >= 0 && r[st.regionIdx] !== filter.region) return false;
      return true;
    });
  }

  function setVisible(st, n) {
    st.visible = n;
    st.card.setAttribute("data-visible-rows", n);
    st.countEl.textContent = "";
    var filtered = filter.account || filter.region || (st.view && st.view.keyword);
    append(st.countEl, filtered ? [h("b", { text: fmtInt(n) }), " of " + fmtInt(st.total)] : [h("b", { text: fmtInt(st.total) }), st.total === 1 ? " row" : " rows"]);
    st.card.classList.toggle("none", n === 0);
    if (st.meter) st.meter.style.width = (n ? Math.max(0.5, 100 * n / st.maxTotal) : 0).toFixed(1) + "%";
  }

  function mountTable(st) {
    var rows = filteredRows(st);
    if (st.view) { st.view.setRows(rows); return; }
    st.holder.textContent = "";
    if (st.note) st.holder.appendChild(st.note);
    if (!st.cols.length) { st.holder.appendChild(h("p", { class: "muted", text: "No columns." })); return; }
    st.view = new TableView({
      label: st.type, rows: rows, searchable: true, accountCol: st.accountIdx,
      emptyText: "No " + st.type + " rows match the filter.",
      columns: function () { return st.cols.map(columnFor); },
      onCount: function (n) { setVisible(st, n); }
    });
    st.holder.appendChild(st.view.el);
  }

  // ---- filtering -----------------------------------------------------------------------

  function toggleFilter(change) {
    var next = Object.assign({}, filter, change);
    var same = Object.keys(change).every(function (k) { return filter[k] === change[k]; });
    if (same) Object.keys(change).forEach(function (k) { next[k] = null; });
    filter = next;
    applyFilter();
  }

  function clearFilter() {
    filter = { account: null, region: null, type: null };
    applyFilter();
  }

  function applyFilter() {
    if (noTable) {
      noTable.hidden = !filter.type || tableState.some(function (st) { return st.type === filter.type; });
      noTable.textContent = filter.type ? "This report has no table for " + filter.type + "." : "";
    }
    tableState.forEach(function (st) {
      st.card.hidden = !!filter.type && filter.type !== st.type;
      if (filter.type === st.type) st.card.open = true;
      if (st.view || st.card.open) mountTable(st);          // counts through onCount
      else setVisible(st, filteredRows(st).length);
    });
    updateMarks();
    renderFilterStatus();
  }

  function updateMarks() {
    var any = !!(filter.account || filter.region);
    document.querySelectorAll('[data-testid="heatmap"] .hit').forEach(function (n) {
      var a = n.getAttribute("data-account"), r = n.getAttribute("data-region");
      var match = (!filter.account || filter.account === a) && (!filter.region || filter.region === r);
      var exact = filter.account === a && filter.region === r;
      n.classList.toggle("selected", any && match && (exact || !filter.account || !filter.region));
      n.classList.toggle("dimmed", any && !match);
      n.setAttribute("aria-pressed", any && match ? "true" : "false");
    });
    document.querySelectorAll("[data-filter-account]").forEach(function (n) {
      n.classList.toggle("selected", filter.account === n.getAttribute("data-filter-account"));
    });
    document.querySelectorAll("[data-filter-region]").forEach(function (n) {
      n.classList.toggle("selected", filter.region === n.getAttribute("data-filter-region"));
    });
    document.querySelectorAll('[data-testid="type-bars"] .hit').forEach(function (n) {
      var t = n.getAttribute("data-type");
      n.classList.toggle("selected", filter.type === t);
      n.classList.toggle("dimmed", !!filter.type && filter.type !== t);
      n.setAttribute("aria-pressed", filter.type === t ? "true" : "false");
    });
    document.querySelectorAll("[data-filter-type]").forEach(function (n) {
      n.classList.toggle("selected", filter.type === n.getAttribute("data-filter-type"));
    });
  }

  function renderFilterStatus() {
    var box = document.getElementById("filter-status");
    if (!box) return;
    box.textContent = "";
    var active = !!(filter.account || filter.region || filter.type);
    box.classList.toggle("active", active);
    box.setAttribute("data-active", active ? "true" : "false");
    ["account", "region", "type"].forEach(function (k) {
      if (filter[k]) box.setAttribute("data-" + k, filter[k]); else box.removeAttribute("data-" + k);
    });
    if (isEmpty || !tableState.length) return;
    if (!active) {
      append(box, h("span", { class: "hint", text: "No filter \u00B7 click the heat map or a type bar to filter the tables" }));
      return;
    }
    var rows = tableState.reduce(function (s, st) { return s + (st.card.hidden ? 0 : st.visible); }, 0);
    append(box, h("span", { text: "Filter:" }));
    if (filter.account) append(box, h("span", { class: "chip" }, "account ", h("b", { text: accountFull(filter.account) })));
    if (filter.region) append(box, h("span", { class: "chip" }, "region ", h("b", { text: filter.region })));
    if (filter.type) append(box, h("span", { class: "chip" }, "type ", h("b", { text: filter.type })));
    append(box, h("span", { class: "filter-count", "data-rows": rows, text: plural(rows, "row") }));
    append(box, h("button", { class: "btn btn-primary", type: "button", "data-action": "clear-filter", text: "Clear filter", onclick: clearFilter }));
  }

  // ---- layout, footer, startup ---------------------------------------------------------

  function drawChart(c, force) {
    var width = Math.floor(c.box.clientWidth || c.box.parentNode.clientWidth || 600);
    if (!force && c.width === width) return;
    c.width = width;
    try {
      var node = c.render(width);
      c.box.textContent = "";
      c.box.appendChild(node);
    } catch (e) {
      c.box.textContent = "";
      c.box.appendChild(h("p", { class: "muted", text: "This chart could not be drawn: " + e.message }));
      if (window.console) console.error(e);
    }
  }
  function redraw(force) {
    charts.forEach(function (c) { drawChart(c, force); });
    updateMarks();
  }

  function renderToc() {
    var toc = document.getElementById("toc");
    if (!sections.length && (isEmpty || !tableState.length)) { toc.parentNode.parentNode.hidden = true; return; }
    sections.forEach(function (s) { toc.appendChild(h("li", null, h("a", { href: "#" + s.id, text: s.title }))); });
  }

  function renderFooter() {
    var f = document.getElementById("footer");
    append(f, h("p", null, "Generated by mrhost" + (D.generated_at ? " at " + fmtTime(D.generated_at) : "") + " from ",
      h("code", { text: D.source || "?" }), ". This file is self-contained: it loads nothing from the network."));
    append(f, h("p", { text: "Charts: Observable Plot " + (Plot.version || "") + " and D3 " + (d3.version || "") +
      " (ISC licence). Tables: Grid.js with Preact (MIT licence). Licence texts are in the page source." }));
  }

  function safely(name, fn) {
    try { fn(); } catch (e) {
      app.appendChild(h("p", { class: "notice", text: "The " + name + " section could not be drawn: " + e.message }));
      if (window.console) console.error(e);
    }
  }

  safely("headline", renderHeadline);
  if (isEmpty) safely("empty-inventory", renderEmpty);
  if (!isEmpty) safely("distribution", renderDistribution);
  if (D.at) safely("changes", renderChanges);
  if (D.at || D.errors.length) safely("failures", renderErrors);
  if (D.findings.length || !isEmpty) safely("findings", renderFindings);
  if (!isEmpty) safely("resources", renderTables);
  renderToc();
  renderFooter();
  renderFilterStatus();
  redraw(true);
  if (window.ResizeObserver) new ResizeObserver(debounce(function () { redraw(false); }, 120)).observe(app);
  else window.addEventListener("resize", debounce(function () { redraw(false); }, 120));

  window.mrhostReport = {
    data: D,
    filter: function () { return Object.assign({}, filter); },
    setFilter: function (f) { filter = Object.assign({ account: null, region: null, type: null }, f); applyFilter(); },
    clearFilter: clearFilter
  };
  document.body.setAttribute("data-ready", "true");
})();
