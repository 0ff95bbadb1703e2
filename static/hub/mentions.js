// @mentions in comment boxes (textarea[data-mentions]): typing @ and letters lists the members of
// the organisation whose name or address starts with them; Enter, Tab or a click writes
// "@their@address" into the text (what the server recognises). Arrow keys move; Escape closes.
(function () {
  "use strict";
  var list = null, box = null, items = [], index = 0, timer = null;

  function close() { if (list) { list.remove(); list = null; } items = []; }

  function wordAtCaret(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var match = /(^|\s)@([^\s@]*)$/.exec(before);
    return match ? { query: match[2], start: before.length - match[2].length - 1 } : null;
  }

  function choose(i) {
    var word = wordAtCaret(box);
    if (!word || !items[i]) return close();
    var text = "@" + items[i].email + " ";
    box.value = box.value.slice(0, word.start) + text + box.value.slice(box.selectionStart);
    var caret = word.start + text.length;
    box.setSelectionRange(caret, caret);
    close();
    box.focus();
  }

  function show(members) {
    close();
    if (!members.length) return;
    items = members; index = 0;
    list = document.createElement("ul");
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Members to mention");
    members.forEach(function (m, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === 0 ? "true" : "false");
      li.textContent = m.name + " (" + m.email + ")";
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    box.insertAdjacentElement("afterend", list);
  }

  function mark() {
    if (!list) return;
    Array.prototype.forEach.call(list.children, function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("textarea[data-mentions]")) return;
    box = target;
    var word = wordAtCaret(target);
    clearTimeout(timer);
    if (!word) return close();
    timer = setTimeout(function () {
      fetch("/content/mentions/?q=" + encodeURIComponent(word.query), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { members: [] }; })
        .then(function (data) { if (box === target) show(data.members); })
        .catch(close);
    }, 120);
  });

  document.addEventListener("keydown", function (event) {
    if (!list || event.target !== box) return;
    if (event.key === "ArrowDown") { index = (index + 1) % items.length; mark(); event.preventDefault(); }
    else if (event.key === "ArrowUp") { index = (index + items.length - 1) % items.length; mark(); event.preventDefault(); }
    else if (event.key === "Enter" || event.key === "Tab") { choose(index); event.preventDefault(); }
    else if (event.key === "Escape") { close(); }
  });
  document.addEventListener("focusout", function (event) { if (event.target === box) setTimeout(close, 150); });
})();
