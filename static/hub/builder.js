// The workflow builder (apps/workflow/templates/workflow/workflow.html): the draft's graph drawn on
// an SVG canvas. Add steps from the palette, drag them, connect a step's port to the step that
// follows (click the port, then the step), edit a step's parameters in the side panel (fields from
// its schema, with the data of the steps before it offered as {{ … }}), zoom, undo and redo. Every
// change is written to the draft form's JSON field: "Save the draft" sends it as before, and the
// server checks it. Keyboard: Tab to a step, Enter to edit it, arrows to move it, Delete to remove
// it; the panel's "Goes on to" lists connect ports without a mouse; Ctrl+Z / Ctrl+Y. A node type is
// also dragged from the palette strip onto the canvas. As the graph changes, the server checks it
// (data-check: the checks publishing makes) and its problems are outlined and listed, Publish off
// while there are some; "Test run" runs the canvas's graph with a sample (data-test) and shows each
// step's status, input and output on the canvas.
(function () {
  "use strict";
  const root = document.getElementById("builder-app");
  const field = document.getElementById("id_graph");
  if (!root || !field) return;
  fetch(root.dataset.palette, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then(builder)
    .catch(() => {
      root.hidden = false;
      root.replaceChildren(Object.assign(document.createElement("p"), {
        className: "notice notice-error",
        textContent: "The builder could not load its node types: edit the draft's graph as JSON below, or reload the page.",
      }));
    });
})();

function builder(palette) {
  "use strict";
  const root = document.getElementById("builder-app");
  const field = document.getElementById("id_graph");
  const SVG = "http://www.w3.org/2000/svg";
  const W = 190, H = 64, GRID = 10;
  // An integration's actions come as one entry per service ({connector, source, actions: [[key, label]]});
  // their parameters are fetched when a step of one is placed or opened (details()).
  palette = palette.flatMap((p) => (p.actions ? p.actions.map(([key, label]) => ({
    type: `${p.connector}.${key}`, label: `${p.source}: ${label}`, description: "Loading its parameters…", ports: ["out"], source: p.source, lazy: true,
  })) : [p]));
  const types = Object.fromEntries(palette.map((p) => [p.type, p]));
  function details(type) {  // resolves once types[type] has its fields (at once for all but lazy ones)
    const known = types[type];
    if (!known || !known.lazy) return Promise.resolve();
    known.loading = known.loading || fetch(`${root.dataset.palette}${encodeURIComponent(type)}/`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    }).then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((item) => { Object.assign(known, item, { lazy: false }); })
      .catch(() => { known.loading = null; say.textContent = `The parameters of ${known.label} could not be loaded: reload the page.`; });
    return known.loading;
  }
  const picker = root.querySelector("#builder-type");
  if (picker) {  // the palette, by where its node types come from
    const groups = {};
    palette.forEach((p) => {
      const name = p.source.charAt(0).toUpperCase() + p.source.slice(1);
      groups[name] = groups[name] || picker.appendChild(Object.assign(document.createElement("optgroup"), { label: name }));
      groups[name].append(Object.assign(new Option(p.label, p.type), { title: p.description }));
    });
  }
  const canEdit = root.dataset.canEdit === "true";
  const svg = root.querySelector(".builder-canvas");
  const edgeLayer = svg.querySelector(".builder-edges");
  const nodeLayer = svg.querySelector(".builder-nodes");
  const panel = root.querySelector(".builder-panel");
  const say = root.querySelector("[data-builder-status]");
  const history = { undo: [], redo: [] };
  let graph = parse(field.value) || { trigger: { type: "manual" }, nodes: [], edges: [] };
  let selected = null, connecting = null, zoom = 1, drag = null;
  let problems = [], tested = null;  // the server's check of the canvas; the last test run's steps
  const saved = JSON.stringify(graph);  // the draft as saved: what Publish publishes

  function parse(text) {
    try {
      const value = JSON.parse(text);
      if (!value || typeof value !== "object") return null;
      value.nodes = Array.isArray(value.nodes) ? value.nodes : [];
      value.edges = Array.isArray(value.edges) ? value.edges : [];
      value.nodes.forEach((node, i) => {
        if (!node.position || typeof node.position.x !== "number") {
          node.position = { x: 30 + (i % 4) * (W + 50), y: 30 + Math.floor(i / 4) * (H + 60) };
        }
      });
      return value;
    } catch (e) {
      return null;
    }
  }

  // --- changes: each one undoable, written to the form -------------------------------------------
  // A parameter typed in the panel keeps the panel as it is (`keepPanel`): drawing it again would
  // take the keyboard's place away from the field the person tabbed to.
  function change(apply, words, keepPanel = false) {
    history.undo.push(JSON.stringify(graph));
    history.redo.length = 0;
    apply();
    written(words, keepPanel);
  }
  function written(words, keepPanel = false) {
    field.value = JSON.stringify(graph, null, 2);
    render(keepPanel);
    if (words) say.textContent = words;
    checkSoon();
  }
  function travel(from, to, words) {
    if (!from.length) return;
    to.push(JSON.stringify(graph));
    graph = JSON.parse(from.pop());
    if (selected && !byId(selected)) selected = null;
    written(words);
  }
  field.addEventListener("change", () => {  // typed by hand into the JSON: taken when it parses
    const typed = parse(field.value);
    if (typed) change(() => { graph = typed; }, "The graph was read from its JSON.");
  });

  // --- the graph ---------------------------------------------------------------------------------
  const byId = (id) => graph.nodes.find((n) => n.id === id);
  const labelOf = (node) => (types[node.type] ? types[node.type].label : `Missing: ${node.type}`);
  function portsOf(node) {
    const known = types[node.type];
    const ports = known ? [...known.ports] : ["out"];
    const cases = (node.parameters || {}).cases;
    if (Array.isArray(cases)) cases.forEach((c) => c && typeof c.port === "string" && ports.push(c.port));
    return [...new Set([...ports, "error"])];
  }
  function freeId(type) {
    const base = type.split(".").pop().replace(/[^a-z0-9_]/gi, "_").toLowerCase() || "step";
    let id = base, n = 1;
    while (byId(id)) id = `${base}_${++n}`;
    return id;
  }
  function upstream(id, seen = new Set()) {  // the steps that run before `id`
    graph.edges.filter((e) => e.to === id && !seen.has(e.from)).forEach((e) => {
      seen.add(e.from);
      upstream(e.from, seen);
    });
    return [...seen];
  }
  function suggestions(id) {
    const out = ["{{ trigger }}"];
    ((graph.trigger || {}).inputs || []).forEach((i) => i && i.name && out.push(`{{ trigger.${i.name} }}`));
    upstream(id).forEach((from) => {
      const node = byId(from);
      const keys = (node && types[node.type] && types[node.type].outputs) || [];
      out.push(`{{ steps.${from} }}`, ...keys.map((k) => `{{ steps.${from}.${k} }}`));
    });
    return out;
  }

  // --- drawing -----------------------------------------------------------------------------------
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (parent) parent.appendChild(node);
    return node;
  }
  function portY(node, port) {
    const ports = portsOf(node);
    return ((ports.indexOf(port) + 1) * H) / (ports.length + 1);
  }
  function render(keepPanel = false) {
    edgeLayer.replaceChildren();
    nodeLayer.replaceChildren();
    graph.edges.forEach((edge) => {
      const a = byId(edge.from), b = byId(edge.to);
      if (!a || !b) return;
      const x1 = a.position.x + W, y1 = a.position.y + portY(a, edge.port || "out");
      const x2 = b.position.x, y2 = b.position.y + H / 2, bend = Math.max(40, Math.abs(x2 - x1) / 2);
      const from = tested && tested.nodes[edge.from];
      const taken = from && tested.nodes[edge.to]
        && (from.port === (edge.port || "out") || (from.status === "failed" && edge.port === "error"));
      const path = el("path", {
        d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
        class: `builder-edge${edge.port === "error" ? " builder-edge-error" : ""}${taken ? " is-taken" : ""}`,
        "data-edge": `${edge.from}:${edge.port || "out"}:${edge.to}`,
      }, edgeLayer);
      el("title", {}, path).textContent = `${edge.from} (${edge.port || "out"}) → ${edge.to}`;
    });
    graph.nodes.forEach((node) => {
      const step = tested && (tested.nodes[node.id] || { status: "skipped", label: "Not reached" });
      const g = el("g", {
        class: `builder-node${node.id === selected ? " is-selected" : ""}${types[node.type] ? "" : " is-missing"}`
          + `${problems.some((p) => p.node === node.id) ? " has-problem" : ""}${step ? ` run-${step.status}` : ""}`,
        transform: `translate(${node.position.x},${node.position.y})`,
        tabindex: "0",
        role: "button",
        "data-node": node.id,
        "aria-roledescription": "step",  // named by its visible words: its type and id
      }, nodeLayer);
      el("rect", { width: W, height: H, rx: 8 }, g);
      el("text", { x: 12, y: 24, class: "builder-node-label" }, g).textContent = labelOf(node);
      el("text", { x: 12, y: 46, class: "builder-node-id" }, g).textContent = node.id;
      el("circle", { cx: 0, cy: H / 2, r: 6, class: "builder-port builder-port-in" }, g);
      if (step) {
        el("text", { x: 2, y: H + 16, class: "builder-node-run", "data-run-status": step.status }, g).textContent =
          `${step.label}${step.visits > 1 ? ` (${step.visits}×)` : ""}`;
      }
      portsOf(node).forEach((port) => {
        const y = portY(node, port);
        el("circle", {
          cx: W, cy: y, r: 7, class: `builder-port${port === "error" ? " builder-port-error" : ""}`,
          "data-port": port, "aria-label": `Port ${port} of ${node.id}`,
        }, g);
        el("text", { x: W - 12, y: y + 4, class: "builder-port-label", "text-anchor": "end", "aria-hidden": "true" }, g)
          .textContent = port;
      });
    });
    const right = Math.max(600, ...graph.nodes.map((n) => n.position.x + W + 80));
    const bottom = Math.max(260, ...graph.nodes.map((n) => n.position.y + H + 60));
    svg.setAttribute("viewBox", `0 0 ${right} ${bottom}`);
    svg.style.width = `${right * zoom}px`;
    svg.style.height = `${bottom * zoom}px`;
    document.querySelector("[data-builder-count]").textContent =
      `${graph.nodes.length} step${graph.nodes.length === 1 ? "" : "s"}, ${graph.edges.length} connection${graph.edges.length === 1 ? "" : "s"}`;
    root.querySelectorAll("[data-builder=undo]").forEach((b) => { b.disabled = !history.undo.length; });
    root.querySelectorAll("[data-builder=redo]").forEach((b) => { b.disabled = !history.redo.length; });
    if (!keepPanel) showPanel();
  }

  // --- the side panel: the selected step's parameters and connections ---------------------------
  function input(label, control, help) {
    const wrap = document.createElement("div");
    wrap.className = "field";
    const id = `builder-field-${Math.random().toString(36).slice(2)}`;
    const lab = document.createElement("label");
    lab.htmlFor = id;
    lab.textContent = label;
    control.id = id;
    wrap.append(lab, control);
    if (help) {
      const small = document.createElement("p");
      small.className = "helptext";
      small.textContent = help;
      wrap.append(small);
    }
    return wrap;
  }
  function paramField(node, name, schema, required, list) {
    const params = node.parameters || (node.parameters = {});
    const value = params[name];
    const kind = Array.isArray(schema.type) ? "json" : schema.enum ? "enum" : schema.type || "json";
    let control;
    if (kind === "enum") {
      control = document.createElement("select");
      ["", ...schema.enum].forEach((v) => control.add(new Option(v === "" ? "—" : v, v, false, v === value)));
    } else if (kind === "boolean") {
      control = document.createElement("input");
      control.type = "checkbox";
      control.checked = Boolean(value);
    } else if (kind === "string") {
      control = document.createElement("input");
      control.type = "text";
      control.value = value == null ? "" : value;
      control.setAttribute("list", list);
    } else if (kind === "integer" || kind === "number") {
      control = document.createElement("input");
      control.type = "number";
      control.value = value == null ? "" : value;
    } else {
      control = document.createElement("textarea");
      control.rows = 3;
      control.className = "code";
      control.value = value === undefined ? "" : JSON.stringify(value, null, 1);
    }
    control.name = name;
    control.disabled = !canEdit;
    control.addEventListener("change", () => {
      let next;
      if (kind === "boolean") next = control.checked;
      else if (kind === "integer" || kind === "number") next = control.value === "" ? undefined : Number(control.value);
      else if (kind === "string" || kind === "enum") next = control.value === "" ? undefined : control.value;
      else if (control.value.trim() === "") next = undefined;
      else {
        try { next = JSON.parse(control.value); } catch (e) {
          say.textContent = `${name}: this is not JSON yet; nothing was changed.`;
          control.setAttribute("aria-invalid", "true");
          return;
        }
      }
      change(() => {
        const target = byId(node.id);
        target.parameters = target.parameters || {};
        if (next === undefined) delete target.parameters[name]; else target.parameters[name] = next;
      }, `${node.id}: ${name} changed.`, true);
    });
    return input(`${name}${required ? " *" : ""}`, control, schema.description);
  }
  function showPanel() {
    panel.replaceChildren();
    const node = selected && byId(selected);
    if (node && types[node.type] && types[node.type].lazy) {
      details(node.type).then(() => selected === node.id && showPanel());
    }
    if (!node) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = canEdit
        ? "Add a step from the list above, or choose a step on the canvas to edit it."
        : "Choose a step to see its parameters.";
      panel.append(p);
      return;
    }
    const heading = document.createElement("h3");
    heading.textContent = `${labelOf(node)} · ${node.id}`;
    const about = document.createElement("p");
    about.className = "muted";
    about.textContent = (types[node.type] || {}).description || "This node type is no longer installed: replace it.";
    panel.append(heading, about);
    if (tested) panel.append(testedStep(node));
    const list = `builder-upstream-${node.id}`;
    const datalist = document.createElement("datalist");
    datalist.id = list;
    suggestions(node.id).forEach((s) => datalist.append(new Option(s)));
    panel.append(datalist);
    const known = types[node.type] || {};
    const props = known.fields || {};
    Object.entries(props).forEach(([name, s]) => {
      panel.append(paramField(node, name, s, (known.required || []).includes(name), list));
    });
    const others = Object.keys(node.parameters || {}).filter((k) => !(k in props));
    const rest = Object.fromEntries(others.map((k) => [k, node.parameters[k]]));
    const needs = (types[node.type] || {}).required || [];
    const extra = document.createElement("textarea");
    extra.rows = 4;
    extra.className = "code";
    extra.disabled = !canEdit;
    extra.value = JSON.stringify(Object.keys(props).length ? rest : node.parameters || {}, null, 1);
    extra.addEventListener("change", () => {
      let value;
      try { value = JSON.parse(extra.value || "{}"); } catch (e) { value = null; }
      if (!value || typeof value !== "object" || Array.isArray(value)) {
        say.textContent = "The parameters are not a JSON object yet; nothing was changed.";
        extra.setAttribute("aria-invalid", "true");
        return;
      }
      change(() => {
        const target = byId(node.id);
        const kept = Object.fromEntries(Object.entries(target.parameters || {}).filter(([k]) => k in props));
        target.parameters = { ...kept, ...value };
      }, `${node.id}: parameters changed.`);
    });
    const help = `${needs.length ? `Needs: ${needs.join(", ")}. ` : ""}Also retries, backoff, timeout. Templates such as {{ steps.<id>.<field> }} are filled from the run.`;
    panel.append(input(Object.keys(props).length ? "More parameters (JSON)" : "Parameters (JSON)", extra, help));
    panel.append(connections(node));
    if (canEdit) {
      const remove = button(`Delete step ${node.id}`, "button button-danger button-small", () => removeNode(node.id));
      panel.append(remove);
    }
  }
  function connections(node) {
    const box = document.createElement("fieldset");
    box.className = "builder-leads";
    const legend = document.createElement("legend");
    legend.textContent = "Goes on to";
    box.append(legend);
    portsOf(node).forEach((port) => {
      const row = document.createElement("div");
      row.className = "builder-lead";
      const name = document.createElement("span");
      name.className = "builder-lead-port";
      name.textContent = port;
      row.append(name);
      graph.edges.filter((e) => e.from === node.id && (e.port || "out") === port).forEach((e) => {
        const chip = document.createElement("span");
        chip.className = "chip";
        chip.textContent = e.to;
        if (canEdit) chip.append(button("×", "chip-remove", () => disconnect(e), `Remove the connection ${port} → ${e.to}`));
        row.append(chip);
      });
      if (canEdit) {
        const pick = document.createElement("select");
        pick.setAttribute("aria-label", `Connect ${port} of ${node.id} to`);
        pick.add(new Option("+ step…", ""));
        graph.nodes.filter((n) => n.id !== node.id).forEach((n) => pick.add(new Option(n.id, n.id)));
        pick.addEventListener("change", () => pick.value && connect(node.id, port, pick.value));
        row.append(pick);
      }
      box.append(row);
    });
    return box;
  }
  function button(text, className, onClick, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = text;
    if (label) b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  // --- edits -------------------------------------------------------------------------------------
  const snap = (v) => Math.max(0, Math.round(v / GRID) * GRID);
  function addNode(type, at) {  // at: where it was dropped (the canvas's units); else a free place in view
    if (types[type] && types[type].lazy) return void details(type).then(() => !types[type].lazy && addNode(type, at));
    if (!types[type]) return;
    const id = freeId(type);
    const box = root.querySelector(".builder-scroll");
    const x = at ? snap(at.x) : snap(box.scrollLeft / zoom + 40);
    let y = at ? snap(at.y) : snap(box.scrollTop / zoom + 30);
    while (!at && graph.nodes.some((n) => Math.abs(n.position.x - x) < W && Math.abs(n.position.y - y) < H + 20)) y += H + 40;
    const empty = { values: {}, conditions: {}, cases: [] };  // the rest of what it needs: text to fill in
    const params = Object.fromEntries(((types[type] || {}).required || []).map((k) => [k, k in empty ? empty[k] : ""]));
    change(() => graph.nodes.push({ id, type, parameters: params, position: { x, y } }),
      `Step ${id} added${at ? ` where it was dropped` : ""}.`);
    select(id);
  }
  function removeNode(id) {
    change(() => {
      graph.nodes = graph.nodes.filter((n) => n.id !== id);
      graph.edges = graph.edges.filter((e) => e.from !== id && e.to !== id);
      selected = null;
    }, `Step ${id} deleted (Ctrl+Z brings it back).`);
  }
  function connect(from, port, to) {
    connecting = null;
    root.classList.remove("is-connecting");
    if (from === to) return void (say.textContent = "A step cannot follow itself.");
    if (graph.edges.some((e) => e.from === from && (e.port || "out") === port && e.to === to)) {
      say.textContent = `${from} (${port}) already goes on to ${to}.`;
      return;
    }
    change(() => graph.edges.push({ from, port, to }), `${from} (${port}) goes on to ${to}.`);
  }
  function disconnect(edge) {
    change(() => {
      graph.edges = graph.edges.filter((e) => e !== edge && !(e.from === edge.from && e.port === edge.port && e.to === edge.to));
    }, `${edge.from} (${edge.port}) no longer goes on to ${edge.to}.`);
  }
  function select(id) {
    selected = id;
    render();
    const g = nodeLayer.querySelector(`[data-node="${CSS.escape(id)}"]`);
    if (g) g.focus({ preventScroll: false });
  }
  function moveBy(id, dx, dy) {
    change(() => {
      const node = byId(id);
      node.position = { x: Math.max(0, node.position.x + dx), y: Math.max(0, node.position.y + dy) };
    });
    select(id);
  }

  // --- pointer and keys --------------------------------------------------------------------------
  function point(event) {
    const box = svg.getBoundingClientRect();
    return { x: (event.clientX - box.left) / zoom, y: (event.clientY - box.top) / zoom };
  }
  svg.addEventListener("pointerdown", (event) => {
    const g = event.target.closest("[data-node]");
    if (!g) return;
    const id = g.dataset.node;
    const port = event.target.dataset && event.target.dataset.port;
    if (!canEdit) return select(id);
    if (port) {
      connecting = { from: id, port };
      root.classList.add("is-connecting");
      say.textContent = `Connecting ${id} (${port}): click the step that follows, or press Escape.`;
      event.preventDefault();
      return;
    }
    if (connecting) return connect(connecting.from, connecting.port, id);
    const at = point(event), node = byId(id);
    drag = { id, dx: at.x - node.position.x, dy: at.y - node.position.y, before: JSON.stringify(graph), moved: false };
    g.setPointerCapture(event.pointerId);
    selected = id;
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const at = point(event), node = byId(drag.id);
    node.position = {
      x: Math.max(0, Math.round((at.x - drag.dx) / GRID) * GRID),
      y: Math.max(0, Math.round((at.y - drag.dy) / GRID) * GRID),
    };
    drag.moved = true;
    const g = nodeLayer.querySelector(`[data-node="${CSS.escape(drag.id)}"]`);
    g.setAttribute("transform", `translate(${node.position.x},${node.position.y})`);
  });
  svg.addEventListener("pointerup", () => {
    if (!drag) return;
    const done = drag;
    drag = null;
    if (done.moved) {
      history.undo.push(done.before);
      history.redo.length = 0;
      written(`Step ${done.id} moved.`);
    }
    select(done.id);
  });
  svg.addEventListener("keydown", (event) => {
    const g = event.target.closest("[data-node]");
    if (!g) return;
    const id = g.dataset.node, step = event.shiftKey ? 50 : GRID;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      if (connecting) connect(connecting.from, connecting.port, id);
      else {
        select(id);
        const first = panel.querySelector("input, select, textarea");
        if (first) first.focus();
      }
    } else if (canEdit && moves[event.key]) {
      event.preventDefault();
      moveBy(id, ...moves[event.key]);
    } else if (canEdit && (event.key === "Delete" || event.key === "Backspace")) {
      event.preventDefault();
      removeNode(id);
    }
  });
  root.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    if (event.key === "Escape" && connecting) {
      connecting = null;
      root.classList.remove("is-connecting");
      say.textContent = "Connecting cancelled.";
    } else if (!typing && canEdit && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
      event.preventDefault();
      event.shiftKey ? travel(history.redo, history.undo, "Redone.") : travel(history.undo, history.redo, "Undone.");
    } else if (!typing && canEdit && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "y") {
      event.preventDefault();
      travel(history.redo, history.undo, "Redone.");
    }
  });
  svg.addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return;
    event.preventDefault();
    setZoom(zoom * (event.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, { passive: false });
  function setZoom(value) {
    zoom = Math.min(2, Math.max(0.4, value));
    root.querySelector("[data-builder-zoom]").textContent = `${Math.round(zoom * 100)} %`;
    render();
  }
  const on = (name, handler) => {
    const control = root.querySelector(`[data-builder=${name}]`);
    if (control) control.addEventListener("click", handler);
  };
  on("add", () => addNode(root.querySelector("#builder-type").value));
  on("undo", () => travel(history.undo, history.redo, "Undone."));
  on("redo", () => travel(history.redo, history.undo, "Redone."));
  on("zoom-in", () => setZoom(zoom * 1.2));
  on("zoom-out", () => setZoom(zoom / 1.2));
  on("zoom-reset", () => setZoom(1));

  // --- the palette strip: drag a node type onto the canvas (pointer events: mouse, pen, finger) ---
  const strip = root.querySelector("[data-builder-palette]");
  if (strip && canEdit) {
    // The built-in steps and the registry's actions as chips; an integration's (over a thousand)
    // only when the filter finds them.
    const chips = palette.map((p) => {
      const chip = document.createElement("span");
      chip.className = "builder-chip";
      chip.dataset.type = p.type;
      chip.textContent = p.label;
      chip.title = `${p.description} Drag it onto the canvas.`;
      chip.hidden = Boolean(p.lazy);
      return chip;
    });
    const find = root.querySelector("#builder-palette-find");
    if (find) {
      find.addEventListener("input", () => {
        const words = find.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
        let shown = 0;
        chips.forEach((chip, i) => {
          const text = `${palette[i].label} ${palette[i].type}`.toLowerCase();
          chip.hidden = words.length ? !words.every((w) => text.includes(w)) || shown >= 60 : Boolean(palette[i].lazy);
          if (!chip.hidden) shown += 1;
        });
        say.textContent = words.length ? `${shown} step${shown === 1 ? "" : "s"} found.` : "";
      });
    }
    strip.append(...chips);
    let carrying = null;
    const drop = (event, cancelled) => {
      const { type, ghost } = carrying;
      carrying = null;
      ghost.remove();
      const box = root.querySelector(".builder-scroll").getBoundingClientRect();
      const inside = event.clientX >= box.left && event.clientX <= box.right
        && event.clientY >= box.top && event.clientY <= box.bottom;
      if (cancelled || !inside) return void (say.textContent = "Not added: drop a step on the canvas.");
      const at = point(event);
      addNode(type, { x: at.x - W / 2, y: at.y - H / 2 });
    };
    strip.addEventListener("pointerdown", (event) => {
      const chip = event.target.closest(".builder-chip");
      if (!chip || event.button !== 0) return;
      event.preventDefault();
      const ghost = Object.assign(document.createElement("div"), { className: "builder-ghost", textContent: chip.textContent });
      document.body.append(ghost);
      carrying = { type: chip.dataset.type, ghost };
      chip.setPointerCapture(event.pointerId);
      ghost.style.transform = `translate(${event.clientX + 8}px, ${event.clientY + 8}px)`;
    });
    strip.addEventListener("pointermove", (event) => {
      if (carrying) carrying.ghost.style.transform = `translate(${event.clientX + 8}px, ${event.clientY + 8}px)`;
    });
    strip.addEventListener("pointerup", (event) => carrying && drop(event, false));
    strip.addEventListener("pointercancel", (event) => carrying && drop(event, true));
  }

  // --- asking the server: the check as the graph changes, test runs ----------------------------
  const csrf = () => (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
  function post(url, fields) {
    const body = new FormData();
    Object.entries(fields).forEach(([k, v]) => body.append(k, v));
    return fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() },
    }).then((response) => response.json().then((data) => ({ status: response.status, data })));
  }
  let checkTimer = null, checking = 0, serverSample = "";
  function checkSoon() {
    if (!canEdit || !root.dataset.check) return;
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 400);
  }
  function check() {
    const asked = ++checking;
    post(root.dataset.check, { graph: JSON.stringify(graph) }).then(({ status, data }) => {
      if (asked !== checking) return;  // a newer check is on its way
      if (status !== 200) return showProblems([{ node: null, text: "The draft could not be checked: " + Object.values(data.errors || {}).flat().join(" ") }]);
      showProblems(data.problems);
      prefill(data.sample || {});
    }).catch(() => { if (asked === checking) say.textContent = "The draft could not be checked (is the connection down?)."; });
  }
  const publishButton = document.querySelector("[data-publish]");
  const publishReason = document.querySelector("[data-publish-reason]");
  const problemBox = root.querySelector("[data-builder-problems]");
  const testButton = root.querySelector("[data-builder=test]");
  function showProblems(found) {
    problems = found;
    render(true);
    if (!problemBox) return;
    problemBox.hidden = !found.length;
    problemBox.querySelector(".builder-problems-title").textContent =
      `${found.length} problem${found.length === 1 ? "" : "s"} to mend before publishing${found.some((p) => p.node) ? " (choose one to select its step)" : ""}:`;
    const list = problemBox.querySelector("ul");
    list.replaceChildren(...found.map((p) => {
      const li = document.createElement("li");
      if (p.node && byId(p.node)) li.append(button(p.text, "builder-problem", () => select(p.node)));
      else li.textContent = p.text;
      return li;
    }));
    const reason = found.length
      ? `Publishing is off: the steps on the canvas have ${found.length} problem${found.length === 1 ? "" : "s"} (listed under the builder).`
      : JSON.stringify(graph) !== saved ? "Save the draft first: Publish takes the saved draft." : "";
    if (publishButton) publishButton.disabled = Boolean(reason) || publishButton.hasAttribute("data-unchanged");
    if (publishReason) {
      publishReason.textContent = reason;
      publishReason.hidden = !reason;
    }
    if (testButton) testButton.title = reason ? "Mend the problems first" : "";
  }

  const testForm = root.querySelector("[data-builder-test]");
  const sample = root.querySelector("#builder-sample");
  const sampleError = root.querySelector("#builder-sample-error");
  const result = root.querySelector("[data-builder-test-result]");
  const progress = root.querySelector("[data-builder-progress]");
  const inputsBox = root.querySelector("[data-builder-inputs]");
  function prefill(data) {
    if (!sample) return;
    const text = JSON.stringify(data, null, 2);
    if (!sample.value.trim() || sample.value === serverSample) sample.value = text;
    serverSample = text;
    const inputs = ((graph.trigger || {}).type === "manual" && (graph.trigger.inputs || [])) || [];
    const names = inputs.filter((i) => i && i.name).map((i) => i.name);
    if (inputsBox.dataset.names === names.join("\n")) return;
    inputsBox.dataset.names = names.join("\n");
    inputsBox.replaceChildren(...names.map((name) => {
      const control = document.createElement("input");
      control.type = "text";
      control.addEventListener("input", () => {
        let value = {};
        try { value = JSON.parse(sample.value || "{}"); } catch (e) { value = {}; }
        if (!value || typeof value !== "object" || Array.isArray(value)) value = {};
        value[name] = control.value;
        sample.value = JSON.stringify(value, null, 2);
      });
      const required = inputs.find((i) => i.name === name).required;
      return input(`Input: ${name}${required ? " *" : ""}`, control);
    }));
  }
  function sampleProblem(words) {
    sampleError.replaceChildren(...words.map((w) => Object.assign(document.createElement("li"), { textContent: w })));
    sampleError.hidden = !words.length;
    if (words.length) {
      sample.setAttribute("aria-invalid", "true");
      sample.setAttribute("aria-describedby", "builder-sample-error builder-sample-help");
    } else {
      sample.removeAttribute("aria-invalid");
      sample.setAttribute("aria-describedby", "builder-sample-help");
    }
  }
  function busy(on) {
    testButton.disabled = on;
    testButton.setAttribute("aria-busy", on ? "true" : "false");
    progress.hidden = !on;
  }
  if (testForm) testForm.addEventListener("submit", (event) => {
    event.preventDefault();
    sampleProblem([]);
    if (problems.length) {
      result.textContent = `The test cannot start: the steps on the canvas have ${problems.length} problem${problems.length === 1 ? "" : "s"} to mend first (listed above).`;
      return;
    }
    busy(true);
    result.textContent = "Starting the test run…";
    post(root.dataset.test, { graph: JSON.stringify(graph), sample: sample.value }).then(({ status, data }) => {
      if (status !== 202) {
        busy(false);
        const errors = data.errors || {};
        sampleProblem(errors.sample || []);
        if (data.problems) showProblems(data.problems);
        result.textContent = "The test did not start: " + Object.values(errors).flat().join(" ");
        if (errors.sample) sample.focus();
        return;
      }
      follow(data.url);
    }).catch(() => { busy(false); result.textContent = "The test did not start (is the connection down?)."; });
  });
  function follow(url) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((run) => {
        tested = run;
        const focusInPanel = panel.contains(document.activeElement);
        render(focusInPanel);
        if (run.active) {
          result.textContent = `${run.label}: ${run.steps_count} step${run.steps_count === 1 ? "" : "s"} so far…`;
          setTimeout(() => follow(url), 700);
          return;
        }
        busy(false);
        result.replaceChildren(
          `Test run ${run.label.toLowerCase()}: ${run.steps_count} step${run.steps_count === 1 ? "" : "s"}. ${run.reason ? run.reason + " " : ""}Choose a step to see its input and output. `,
          Object.assign(document.createElement("a"), { href: run.url, textContent: "The whole run" }),
        );
      })
      .catch(() => { busy(false); result.textContent = "The test run could not be followed: see the runs below."; });
  }
  function testedStep(node) {
    const step = tested.nodes[node.id];
    const wrap = document.createElement("div");
    wrap.className = "builder-result";
    const title = document.createElement("p");
    title.className = "builder-result-title";
    title.textContent = step ? `Test run: ${step.label}${step.visits > 1 ? ` (${step.visits} times; the last shown)` : ""}` : "Test run: not reached";
    wrap.append(title);
    if (!step) return wrap;
    [["Input", step.input], ["Output", step.output]].forEach(([words, value]) => {
      const label = document.createElement("p");
      label.className = "builder-result-label";
      label.textContent = words;
      const pre = document.createElement("pre");
      pre.tabIndex = 0;
      pre.dataset.result = words.toLowerCase();
      pre.textContent = value == null ? "—" : JSON.stringify(value, null, 2);
      wrap.append(label, pre);
    });
    if (step.error) wrap.append(Object.assign(document.createElement("p"), { className: "builder-result-error", textContent: step.error }));
    return wrap;
  }

  root.hidden = false;
  render();
  if (canEdit) check();
  Promise.all([...new Set(graph.nodes.map((n) => n.type))].map(details)).then(() => render(true));  // their outputs
}
