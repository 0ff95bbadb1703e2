// A dashboard's grid (views/dashboards.py): each tile sits at its x, y (12 columns, rows of
// 110 px), w columns wide and h rows high. With "Arrange tiles" on, a tile moves by dragging its
// handle and resizes by dragging its corner; the same moves are buttons in its "Arrange" menu for
// the keyboard. Other tiles make room (pushed down, then everything floats up), and the layout
// is saved to the server after each change. Tiles re-fetch their chart (htmx) when the live
// connection says the organisation's analytics data changed, at most every 2 seconds.
(function () {
  "use strict";
  var grid = document.querySelector("[data-dash-grid]");
  if (!grid) return;
  var COLUMNS = 12, MAX_H = 8;
  var status = document.querySelector("[data-layout-status]");
  var tiles = Array.prototype.map.call(grid.querySelectorAll("[data-tile]"), function (el) {
    return { el: el, id: +el.getAttribute("data-tile"), x: +el.getAttribute("data-x"), y: +el.getAttribute("data-y"),
             w: +el.getAttribute("data-w"), h: +el.getAttribute("data-h") };
  });

  function apply() {
    tiles.forEach(function (t) {
      t.el.style.gridColumn = (t.x + 1) + " / span " + t.w;
      t.el.style.gridRow = (t.y + 1) + " / span " + t.h;
      t.el.setAttribute("data-x", t.x); t.el.setAttribute("data-y", t.y);
      t.el.setAttribute("data-w", t.w); t.el.setAttribute("data-h", t.h);
    });
  }

  function overlap(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }

  // The moved tile keeps its place; the others, in reading order, go down until they fit; then
  // every tile floats up as far as it can.
  function resolve(moved) {
    var placed = [moved];
    tiles.filter(function (t) { return t !== moved; })
      .sort(function (a, b) { return a.y - b.y || a.x - b.x; })
      .forEach(function (t) {
        while (placed.some(function (p) { return overlap(p, t); })) t.y += 1;
        placed.push(t);
      });
    tiles.slice().sort(function (a, b) { return a.y - b.y || a.x - b.x; }).forEach(function (t) {
      while (t.y > 0) {
        var up = { x: t.x, y: t.y - 1, w: t.w, h: t.h };
        if (tiles.some(function (o) { return o !== t && overlap(o, up); })) break;
        t.y -= 1;
      }
    });
  }

  function say(text) { if (status) status.textContent = text; }

  function token() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  var saving = null;
  function save(where) {
    var url = grid.getAttribute("data-layout-url");
    if (!url) return;
    var body = JSON.stringify({ layout: tiles.map(function (t) { return { id: t.id, x: t.x, y: t.y, w: t.w, h: t.h }; }) });
    grid.setAttribute("data-layout-saving", "");
    saving = fetch(url, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRFToken": token() }, body: body })
      .then(function (response) {
        grid.removeAttribute("data-layout-saving");
        if (response.ok) { grid.setAttribute("data-layout-saved", String(Date.now())); say((where ? where + " " : "") + "Layout saved."); return; }
        return response.json().then(function (data) {
          var errors = data && data.errors ? Object.keys(data.errors).map(function (k) { return data.errors[k].join(" "); }).join(" ") : "";
          throw new Error(errors || "The server refused it.");
        });
      })
      .catch(function (error) {
        grid.removeAttribute("data-layout-saving");
        var text = "The layout could not be saved: " + (error.message || "no connection") + " Reload the page to see the saved one.";
        say(text);
        if (window.hub) window.hub.toast(text, "error");
      });
  }

  function place(t) {
    return labelOf(t) + ": column " + (t.x + 1) + ", row " + (t.y + 1) + ", " + t.w + " wide, " + t.h + " high.";
  }

  function labelOf(t) { var h = t.el.querySelector("h2"); return h ? h.textContent.trim() : "the tile"; }

  // --- Editing on and off --------------------------------------------------------------------
  var toggle = document.querySelector("[data-edit-layout]");
  if (toggle) toggle.addEventListener("click", function () {
    var on = !grid.hasAttribute("data-editing");
    if (on) grid.setAttribute("data-editing", ""); else grid.removeAttribute("data-editing");
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = on ? "Done arranging" : "Arrange tiles";
  });

  // --- Keyboard (and pointer) buttons ----------------------------------------------------------
  var MOVES = {
    left: function (t) { t.x = Math.max(0, t.x - 1); },
    right: function (t) { t.x = Math.min(COLUMNS - t.w, t.x + 1); },
    up: function (t) { t.y = Math.max(0, t.y - 1); },
    down: function (t) { t.y += 1; },
    wider: function (t) { t.w = Math.min(COLUMNS - t.x, t.w + 1); },
    narrower: function (t) { t.w = Math.max(1, t.w - 1); },
    taller: function (t) { t.h = Math.min(MAX_H, t.h + 1); },
    shorter: function (t) { t.h = Math.max(1, t.h - 1); },
  };
  grid.addEventListener("click", function (event) {
    var button = event.target.closest("[data-move]");
    if (!button) return;
    var t = tileOf(button);
    var before = JSON.stringify([t.x, t.y, t.w, t.h]);
    if (button.getAttribute("data-move") === "up" && t.y > 0) {
      // Up past the tile above: swap rows with it rather than bumping into it.
      var above = tiles.filter(function (o) { return o !== t && o.y + o.h === t.y && o.x < t.x + t.w && t.x < o.x + o.w; });
      t.y = above.length ? Math.min.apply(null, above.map(function (o) { return o.y; })) : t.y - 1;
    } else {
      MOVES[button.getAttribute("data-move")](t);
    }
    resolve(t);
    apply();
    say(place(t));
    if (JSON.stringify([t.x, t.y, t.w, t.h]) !== before) save(place(t));
    button.focus();
  });

  function tileOf(el) {
    var id = +el.closest("[data-tile]").getAttribute("data-tile");
    return tiles.filter(function (t) { return t.id === id; })[0];
  }

  // --- Dragging and resizing -------------------------------------------------------------------
  function cellAt(clientX, clientY) {
    var rect = grid.getBoundingClientRect();
    var style = getComputedStyle(grid);
    var gap = parseFloat(style.columnGap) || 0;
    var colWidth = (rect.width - gap * (COLUMNS - 1)) / COLUMNS;
    var rowHeight = parseFloat(style.gridAutoRows) || 110;
    return {
      col: Math.floor((clientX - rect.left) / (colWidth + gap)),
      row: Math.floor((clientY - rect.top) / (rowHeight + gap)),
    };
  }

  grid.addEventListener("pointerdown", function (event) {
    var handle = event.target.closest("[data-drag-handle], [data-resize-handle]");
    if (!handle || !grid.hasAttribute("data-editing")) return;
    event.preventDefault();
    var t = tileOf(handle);
    var resizing = handle.hasAttribute("data-resize-handle");
    var start = cellAt(event.clientX, event.clientY);
    var grab = { col: start.col - t.x, row: start.row - t.y };
    var before = JSON.stringify(tiles.map(function (o) { return [o.x, o.y, o.w, o.h]; }));
    t.el.classList.add("dash-dragging");
    handle.setPointerCapture(event.pointerId);

    function move(e) {
      var cell = cellAt(e.clientX, e.clientY);
      var was = [t.x, t.y, t.w, t.h].join();
      if (resizing) {
        t.w = Math.max(1, Math.min(COLUMNS - t.x, cell.col - t.x + 1));
        t.h = Math.max(1, Math.min(MAX_H, cell.row - t.y + 1));
      } else {
        t.x = Math.max(0, Math.min(COLUMNS - t.w, cell.col - grab.col));
        t.y = Math.max(0, cell.row - grab.row);
      }
      if ([t.x, t.y, t.w, t.h].join() !== was) { resolve(t); apply(); }
    }
    function up() {
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", up);
      handle.removeEventListener("pointercancel", up);
      t.el.classList.remove("dash-dragging");
      if (JSON.stringify(tiles.map(function (o) { return [o.x, o.y, o.w, o.h]; })) !== before) {
        say(place(t));
        save(place(t));
      }
    }
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
    handle.addEventListener("pointercancel", up);
  });

  apply();

  // --- Live refresh ----------------------------------------------------------------------------
  var last = 0, pending = null;
  function refresh() {
    pending = null;
    last = Date.now();
    document.body.dispatchEvent(new CustomEvent("analytics-changed"));
  }
  document.addEventListener("hub-signal", function (event) {
    if (!event.detail || event.detail.name !== "analytics.data_changed" || pending) return;
    var wait = Math.max(0, last + 2000 - Date.now());
    pending = setTimeout(refresh, wait);
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var body = event.detail.target;
    if (body && body.hasAttribute && body.hasAttribute("data-tile-body")) {
      body.setAttribute("data-refreshes", String((+body.getAttribute("data-refreshes") || 0) + 1));
    }
  });
})();
