// Home page: drag a card onto another to move it there; the new order is saved through the
// page's order form (an htmx POST that swaps the grid; a plain POST without htmx). The arrow
// buttons on each card do the same without a mouse or without JavaScript.
(function () {
  "use strict";
  var dragged = null;

  function grid() { return document.querySelector("[data-widget-grid]"); }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-widget]");
    if (!card || !grid() || !grid().contains(card)) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-widget"));
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var over = event.target.closest && event.target.closest("[data-widget]");
    if (!over || over === dragged || over.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    var box = over.getBoundingClientRect();
    var after = (event.clientY - box.top) > box.height / 2 || (event.clientX - box.left) > box.width / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });

  document.addEventListener("drop", function (event) { if (dragged) event.preventDefault(); });

  document.addEventListener("dragend", function () {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    dragged = null;
    save();
  });

  function save() {
    var form = document.querySelector("[data-order-form]");
    if (!form || !grid()) return;
    form.querySelectorAll("input[name=order]").forEach(function (input) { input.remove(); });
    grid().querySelectorAll("[data-widget]").forEach(function (card) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "order";
      input.value = card.getAttribute("data-widget");
      form.appendChild(input);
    });
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }
})();
