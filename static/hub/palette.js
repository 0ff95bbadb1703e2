// The command palette: Ctrl-K (⌘K on a Mac) or the top bar's Search button opens a <dialog> whose
// search box (a combobox) lists pages and objects from GET /api/v1/search/?q=, grouped by kind.
// Up/Down move through the options, Enter opens the chosen one, Escape closes the dialog.
(function () {
  "use strict";
  var dialog = document.querySelector("[data-palette]");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var input = dialog.querySelector("[data-palette-input]");
  var list = dialog.querySelector("[data-palette-list]");
  var status = dialog.querySelector("[data-palette-status]");
  var url = dialog.getAttribute("data-search-url");
  var mac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  var options = [];
  var active = -1;
  var timer = null;
  var asked = 0;  // the number of the latest request: older answers are dropped
  var waiting = false;
  var enterWhenAnswered = false;

  document.querySelectorAll("[data-palette-shortcut]").forEach(function (k) { k.textContent = mac ? "⌘K" : "Ctrl K"; });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function setActive(i) {
    if (active >= 0 && options[active]) options[active].setAttribute("aria-selected", "false");
    active = options.length ? (i + options.length) % options.length : -1;
    if (active < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    var option = options[active];
    option.setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function render(data) {
    list.textContent = "";
    options = [];
    (data.groups || []).forEach(function (group, g) {
      var box = el("div", "palette-group");
      box.setAttribute("role", "group");
      var label = el("div", "palette-group-label", group.label);
      label.id = "palette-group-" + g;
      label.setAttribute("role", "presentation");
      box.setAttribute("aria-labelledby", label.id);
      box.appendChild(label);
      group.results.forEach(function (result) {
        var option = el("a", "palette-option");
        option.id = "palette-option-" + options.length;
        option.href = result.url;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.appendChild(el("span", "palette-title", result.title));
        if (result.description) option.appendChild(el("span", "palette-sub", result.description));
        var index = options.length;
        option.addEventListener("mousemove", function () { if (active !== index) setActive(index); });
        options.push(option);
        box.appendChild(option);
      });
      list.appendChild(box);
    });
    var n = options.length;
    status.textContent = n ? n + (n === 1 ? " result" : " results") : "Nothing found for “" + data.query.trim() + "”.";
    status.classList.toggle("visually-hidden", n > 0);
    setActive(0);
    if (enterWhenAnswered && timer === null) go();
  }

  function fail(message) {
    list.textContent = "";
    options = [];
    setActive(-1);
    status.textContent = message;
    status.classList.remove("visually-hidden");
    enterWhenAnswered = false;
  }

  function go() {
    enterWhenAnswered = false;
    if (active >= 0 && options[active]) window.location.assign(options[active].href);
  }

  function search() {
    timer = null;
    waiting = true;
    var mine = ++asked;
    fetch(url + "?q=" + encodeURIComponent(input.value), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (mine !== asked) return;
      waiting = false;
      if (answer.ok) render(answer.body);
      else fail((answer.body.errors && answer.body.errors[0].message) || answer.body.detail || "Search failed.");
    }).catch(function () {
      if (mine !== asked) return;
      waiting = false;
      fail("Search is not reachable right now. Check your connection and try again.");
    });
  }

  function open() {
    if (dialog.open) return;
    dialog.showModal();
    input.focus();
    input.select();
    search();
  }

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && (event.key || "").toLowerCase() === "k") {
      event.preventDefault();
      if (dialog.open) dialog.close(); else open();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-palette-open]")) open();
  });

  // A click on the backdrop (the dialog element itself, outside its box) closes it.
  dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });

  dialog.addEventListener("close", function () { enterWhenAnswered = false; });

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 120);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      setActive(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (timer !== null || waiting) enterWhenAnswered = true;  // typed faster than the answer came
      else go();
    }
  });
})();
