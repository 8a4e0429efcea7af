// registry-gen: copy buttons for models:/ URIs. No user data is evaluated here:
// the URI is read from a data attribute and only ever written to the clipboard.
(function () {
  "use strict";
  function copy(button) {
    var text = button.getAttribute("data-copy") || "";
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("rg-copied");
      setTimeout(function () {
        button.textContent = label;
        button.classList.remove("rg-copied");
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "absolute";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
      document.body.removeChild(area);
    }
  }
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element) {
      var button = target.closest("button.rg-copy");
      if (button) { copy(button); }
    }
  });
})();

// registry-gen: a filter box above each table marked data-rg-filter (the model list,
// a model's versions). It filters the rows of the table on this page only (long tables
// are paginated: other pages keep their own rows). Rows are hidden or shown; nothing
// the reader types is ever written into the page.
(function () {
  "use strict";
  function setUp(table) {
    if (table.getAttribute("data-rg-filter-ready")) { return; }
    table.setAttribute("data-rg-filter-ready", "1");
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
    var box = document.createElement("div");
    box.className = "rg-filter";
    var input = document.createElement("input");
    input.type = "search";
    input.className = "rg-filter-input";
    input.placeholder = "Filter the rows on this page";
    input.setAttribute("aria-label", "Filter the rows of this table on this page");
    var count = document.createElement("span");
    count.className = "rg-filter-count";
    box.appendChild(input);
    box.appendChild(count);
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row, i) {
        var match = words.every(function (w) { return texts[i].indexOf(w) !== -1; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      count.textContent = words.length ? shown + " of " + rows.length + " rows on this page" : "";
    });
    // Material wraps tables for scrolling; the box goes above the wrapper.
    var anchor = table.closest(".md-typeset__scrollwrap") || table;
    anchor.parentNode.insertBefore(box, anchor);
  }
  function init() {
    document.querySelectorAll("table[data-rg-filter]").forEach(setUp);
  }
  // Material's instant navigation swaps pages without loading scripts again: its
  // document$ announces every new page. Without it, the page is already parsed here.
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

// registry-gen: the compare page (models/compare/). Reads ?model=NAME&v=N&v=M, fetches
// the model's document of the site's JSON API and draws versions side by side. Every
// value from the JSON reaches the page through textContent (el() below), never as markup.
(function () {
  "use strict";
  var NAME_SLOT = "__rg_name__";
  var VERSION_SLOT = "__rg_version__";

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }
  function link(href, text) {
    var a = el("a", text);
    a.setAttribute("href", href);
    return a;
  }
  function show(value) {
    if (value === undefined || value === null || value === "") { return "—"; }
    if (typeof value === "number" && !Number.isInteger(value)) {
      return String(Number(value.toPrecision(6)));
    }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  function owns(object, key) {
    return object !== null && typeof object === "object" &&
      Object.prototype.hasOwnProperty.call(object, key);
  }
  function keysOf(columns, pick) {
    var keys = [];
    columns.forEach(function (v) {
      var map = pick(v) || {};
      Object.keys(map).forEach(function (k) { if (keys.indexOf(k) === -1) { keys.push(k); } });
    });
    return keys.sort();
  }
  function specs(version, side) {
    var signature = (version.artifact || {}).signature || {};
    var out = {};
    (signature[side] || []).forEach(function (spec, i) {
      var shape = spec.shape ? " [" + spec.shape.join(", ") + "]" : "";
      out[spec.name || "#" + (i + 1)] = String(spec.type) + shape;
    });
    return out;
  }
  // Each version's stage changes, from the model document's history (who, PR and when
  // are there too; the compare page shows when and what moved).
  function attachStageHistory(data) {
    var changes = {};
    (data.history || []).forEach(function (e) {
      if (e.version !== null && (e.kind === "registered" || e.kind === "stage")) {
        (changes[e.version] = changes[e.version] || []).push({ at: e.date, old: e.old, "new": e["new"] });
      }
    });
    data.versions.forEach(function (v) { v.stage_history = changes[v.version]; });
  }
  function stageHistory(version) {
    return (version.stage_history || []).map(function (change) {
      var day = String(change.at || "").slice(0, 16).replace("T", " ");
      return day + "  " + (change.old ? change.old + " → " : "") + show(change["new"]);
    }).join("\n");
  }
  function lineageRows(version) {
    var lineage = version.lineage || {};
    var code = lineage.code ? lineage.code.repo + " @ " + String(lineage.code.commit).slice(0, 12) : "";
    return {
      "Run": lineage.run_id || lineage.run_url || "",
      "Code": code,
      "Datasets": (lineage.datasets || []).map(function (d) {
        return d.name + (d.md5 ? " (md5 " + String(d.md5).slice(0, 8) + "…)" : "");
      }).join("\n"),
      "Parents": (lineage.parents || []).join("\n")
    };
  }

  function section(tbody, title, span) {
    var row = el("tr", null, "rg-compare-section");
    var cell = el("th", title);
    cell.setAttribute("colspan", String(span));
    row.appendChild(cell);
    tbody.appendChild(row);
  }
  // One row: a label and a value per column; marked when the values differ.
  function valueRow(tbody, label, values, extra) {
    var row = el("tr");
    row.appendChild(el("td", label, "rg-compare-label"));
    var differs = values.some(function (v) { return show(v) !== show(values[0]); });
    if (differs) { row.classList.add("rg-differs"); }
    values.forEach(function (value, i) {
      var cell = el("td", show(value));
      if (extra) { extra(cell, value, i); }
      row.appendChild(cell);
    });
    tbody.appendChild(row);
  }
  function metricDelta(base) {
    return function (cell, value, i) {
      if (i === 0 || typeof value !== "number" || typeof base !== "number") { return; }
      var change = value - base;
      var kind = change > 0 ? "rg-up" : (change < 0 ? "rg-down" : "");
      var text = change === 0 ? "±0" : (change > 0 ? "+" : "") + Number(change.toPrecision(4));
      cell.appendChild(document.createTextNode(" "));
      cell.appendChild(el("span", "(" + text + ")", ("rg-delta " + kind).trim()));
    };
  }

  function draw(root, data, picked, urls) {
    var columns = data.versions.filter(function (v) { return picked.indexOf(v.version) !== -1; });
    var target = root.querySelector(".rg-compare-table");
    target.textContent = "";
    if (columns.length === 0) {
      target.appendChild(el("p", "Pick at least one version above.", "rg-muted"));
      return;
    }
    var aliasesOf = {};
    Object.keys(data.aliases || {}).forEach(function (alias) {
      var n = data.aliases[alias];
      (aliasesOf[n] = aliasesOf[n] || []).push("@" + alias);
    });
    var table = el("table");
    var head = el("thead");
    var headRow = el("tr");
    headRow.appendChild(el("th", ""));
    columns.forEach(function (v) {
      var th = el("th");
      th.appendChild(link(urls.version(data.name, v.version), "v" + v.version));
      headRow.appendChild(th);
    });
    head.appendChild(headRow);
    table.appendChild(head);
    var body = el("tbody");
    var span = columns.length + 1;
    section(body, "Version", span);
    valueRow(body, "Stage", columns.map(function (v) { return v.stage; }));
    valueRow(body, "Aliases", columns.map(function (v) { return (aliasesOf[v.version] || []).join(" "); }));
    valueRow(body, "Created (UTC)", columns.map(function (v) { return String(v.created_at).slice(0, 16).replace("T", " "); }));
    valueRow(body, "Created by", columns.map(function (v) { return v.created_by; }));
    var groups = [
      ["Parameters", function (v) { return v.params; }, null],
      ["Metrics (change against the first column)", function (v) { return v.metrics; }, "delta"],
      ["Tags", function (v) { return v.tags; }, null],
      ["Signature inputs", function (v) { return specs(v, "inputs"); }, null],
      ["Signature outputs", function (v) { return specs(v, "outputs"); }, null],
      ["Lineage", lineageRows, null]
    ];
    groups.forEach(function (group) {
      var keys = keysOf(columns, group[1]);
      if (!keys.length) { return; }
      section(body, group[0], span);
      keys.forEach(function (key) {
        var values = columns.map(function (v) {
          var map = group[1](v) || {};
          return owns(map, key) ? map[key] : null;
        });
        valueRow(body, key, values, group[2] === "delta" ? metricDelta(values[0]) : null);
      });
    });
    if (columns.some(function (v) { return v.stage_history; })) {
      section(body, "Stage history", span);
      valueRow(body, "Changes", columns.map(stageHistory));
    }
    table.appendChild(body);
    target.appendChild(table);
  }

  function picker(root, data, picked, redraw) {
    var box = root.querySelector(".rg-compare-picker");
    box.textContent = "";
    data.versions.slice().reverse().forEach(function (v) {
      var label = el("label", null, "rg-compare-pick");
      var input = el("input");
      input.type = "checkbox";
      input.value = String(v.version);
      input.checked = picked.indexOf(v.version) !== -1;
      input.addEventListener("change", function () {
        var n = v.version;
        var at = picked.indexOf(n);
        if (input.checked && at === -1) { picked.push(n); }
        if (!input.checked && at !== -1) { picked.splice(at, 1); }
        picked.sort(function (a, b) { return a - b; });
        redraw();
      });
      label.appendChild(input);
      label.appendChild(document.createTextNode(" v" + v.version + " "));
      label.appendChild(el("span", v.stage, "rg-muted"));
      box.appendChild(label);
    });
  }

  function fail(root, message) {
    root.textContent = "";
    root.appendChild(el("p", message, "rg-muted"));
  }

  function start(root) {
    if (root.getAttribute("data-rg-ready")) { return; }
    root.setAttribute("data-rg-ready", "1");
    var params = new URLSearchParams(window.location.search);
    var name = params.get("model");
    var picked = params.getAll("v").map(Number).filter(function (n) { return Number.isInteger(n) && n > 0; });
    if (!name) { return; }
    var base = root.getAttribute("data-root") || "./";
    var urls = {
      version: function (model, n) {
        return root.getAttribute("data-version-url").replace(NAME_SLOT, encodeURIComponent(model))
          .replace(VERSION_SLOT, String(n));
      },
      model: function (model) {
        return root.getAttribute("data-model-url").replace(NAME_SLOT, encodeURIComponent(model));
      }
    };
    fetch(base + "api/index.json").then(function (r) { return r.json(); }).then(function (index) {
      if (!owns(index.models, name)) { throw new Error("No model named " + name + " in this registry."); }
      return fetch(base + "api/models/" + encodeURIComponent(name) + ".json");
    }).then(function (r) { return r.json(); }).then(function (data) {
      attachStageHistory(data);
      var known = data.versions.map(function (v) { return v.version; });
      picked = picked.filter(function (n) { return known.indexOf(n) !== -1; });
      if (picked.length === 1 && known.length > 1) {
        // One version named (a version page's link): start with the one before it.
        var at = known.indexOf(picked[0]);
        picked.push(known[at > 0 ? at - 1 : at + 1]);
      }
      picked.sort(function (a, b) { return a - b; });
      root.textContent = "";
      var title = el("p");
      title.appendChild(document.createTextNode("Model "));
      title.appendChild(link(urls.model(data.name), data.name));
      title.appendChild(document.createTextNode(": tick the versions to compare."));
      root.appendChild(title);
      root.appendChild(el("div", null, "rg-compare-picker"));
      root.appendChild(el("div", null, "rg-compare-table"));
      var redraw = function () {
        var query = new URLSearchParams();
        query.set("model", data.name);
        picked.forEach(function (n) { query.append("v", String(n)); });
        window.history.replaceState(null, "", "?" + query.toString());
        draw(root, data, picked, urls);
      };
      picker(root, data, picked, redraw);
      redraw();
    }).catch(function (error) {
      fail(root, "Cannot compare: " + (error && error.message ? error.message : error));
    });
  }

  function init() {
    var root = document.getElementById("rg-compare");
    if (root) { start(root); }
  }
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
