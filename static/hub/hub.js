// The shell's small behaviours and the UI kit's (documented on /style-guide/):
// theme toggle, mobile navigation, confirmations (data-confirm), busy submit buttons,
// copy to clipboard (data-copy), toasts (django messages), htmx CSRF.
(function () {
  var TOAST_SECONDS = 6;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // --- Toasts ------------------------------------------------------------------------------
  // Django's messages arrive as a plain list (templates/_messages.html); with JavaScript they
  // float in a corner, can be dismissed, and go away by themselves unless they report an error
  // (hovering or focusing one keeps it).
  function messagesBox() {
    var box = document.querySelector(".messages");
    if (!box) {
      box = document.createElement("div");
      box.className = "messages";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    return box;
  }

  function dismiss(message) {
    if (!message.isConnected) return;
    message.classList.add("leaving");
    setTimeout(function () { message.remove(); }, 200);
  }

  function closeButton() {
    var close = document.createElement("button");
    close.type = "button";
    close.className = "message-close";
    close.setAttribute("data-dismiss", "");
    close.setAttribute("aria-label", "Dismiss");  // the × is drawn by CSS: the message's text stays its own
    return close;
  }

  function armToast(message) {
    if (message.dataset.armed) return;
    message.dataset.armed = "1";
    if (!message.querySelector("[data-dismiss]")) message.appendChild(closeButton());
    if (message.classList.contains("message-error")) return;
    var timer = null;
    function start() { timer = setTimeout(function () { dismiss(message); }, TOAST_SECONDS * 1000); }
    function stop() { clearTimeout(timer); }
    message.addEventListener("mouseenter", stop);
    message.addEventListener("mouseleave", start);
    message.addEventListener("focusin", stop);
    message.addEventListener("focusout", start);
    start();
  }

  // window.hub.toast(text, tone, href): with href the text is a link (a live notification's).
  function toast(text, tone, href) {
    var message = document.createElement("div");
    message.className = "message message-" + (tone || "info");
    var span = document.createElement(href ? "a" : "span");
    span.className = "message-text";
    span.textContent = text;
    if (href) span.href = href;
    message.appendChild(span);
    messagesBox().appendChild(message);
    armToast(message);
    return message;
  }

  function armAll(root) {
    (root || document).querySelectorAll(".messages .message").forEach(armToast);
  }

  // --- Confirmation modal ------------------------------------------------------------------
  // <form data-confirm="Remove Bob?" data-confirm-button="Remove" data-confirm-typed="acme">
  // asks once in a <dialog> (focus stays inside; Escape cancels). With data-confirm-typed the
  // button stays disabled until the text is typed exactly. Without JavaScript the form submits.
  var dialog = null;

  function buildDialog() {
    dialog = document.createElement("dialog");
    dialog.className = "modal";
    dialog.id = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.setAttribute("aria-describedby", "confirm-dialog-text");
    dialog.innerHTML =
      '<form method="dialog">' +
      '<h2 class="modal-title" id="confirm-dialog-title">Are you sure?</h2>' +
      '<p class="modal-text" id="confirm-dialog-text"></p>' +
      '<div class="modal-typed field" hidden><label for="confirm-dialog-input"></label>' +
      '<input id="confirm-dialog-input" autocomplete="off" autocapitalize="off" spellcheck="false"></div>' +
      '<div class="modal-actions">' +
      '<button type="submit" value="cancel" class="button button-secondary" data-confirm-cancel>Cancel</button>' +
      '<button type="submit" value="confirm" class="button" data-confirm-ok>Confirm</button>' +
      "</div></form>";
    document.body.appendChild(dialog);
    var input = dialog.querySelector("input");
    input.addEventListener("input", function () {
      dialog.querySelector("[data-confirm-ok]").disabled = input.value.trim() !== dialog.dataset.typed;
    });
    // Enter in the typed field confirms, once the text matches (left to the browser, it would press
    // the form's first button: Cancel).
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      if (input.value.trim() === dialog.dataset.typed) dialog.querySelector("[data-confirm-ok]").click();
    });
    return dialog;
  }

  function askToConfirm(form, submitter) {
    var d = dialog || buildDialog();
    var ok = d.querySelector("[data-confirm-ok]");
    var typedBox = d.querySelector(".modal-typed");
    var input = d.querySelector("input");
    var typed = form.getAttribute("data-confirm-typed") || "";
    var danger = (submitter && submitter.classList.contains("button-danger")) || typed !== "";
    d.querySelector(".modal-text").textContent = form.getAttribute("data-confirm");
    ok.textContent = form.getAttribute("data-confirm-button") || (submitter && submitter.textContent.trim()) || "Confirm";
    ok.className = "button" + (danger ? " button-danger" : "");
    d.dataset.typed = typed;
    typedBox.hidden = !typed;
    input.value = "";
    if (typed) {
      d.querySelector(".modal-typed label").textContent = "Type “" + typed + "” to confirm";
      ok.disabled = true;
    } else {
      ok.disabled = false;
    }
    d.returnValue = "";
    d.onclose = function () {
      if (d.returnValue !== "confirm") return;
      if (typed && input.value.trim() !== typed) return;
      form.dataset.confirmed = "1";
      if (form.requestSubmit) form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      else form.submit();
    };
    d.showModal();
    (typed ? input : d.querySelector("[data-confirm-cancel]")).focus();
  }

  // Capture phase: runs before htmx's own listener on the form, so a cancelled confirmation never
  // reaches it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method === "dialog") return;
    if (form.hasAttribute("data-confirm") && !form.dataset.confirmed) {
      event.preventDefault();
      event.stopPropagation();
      askToConfirm(form, event.submitter);
      return;
    }
    delete form.dataset.confirmed;
    if (!event.defaultPrevented) markBusy(form, event.submitter);
  }, true);

  // --- Busy submit buttons -----------------------------------------------------------------
  // A form's submit buttons are disabled while it submits (no double submits): until the next
  // page for a normal POST, until the response for htmx. GET forms (filters, exports) and forms
  // marked data-no-busy are left alone.
  function submitButtons(form) {
    return Array.prototype.filter.call(form.querySelectorAll("button, input[type=submit]"), function (b) {
      return b.type === "submit";
    }).concat(form.id ? Array.prototype.slice.call(document.querySelectorAll('button[type=submit][form="' + form.id + '"]')) : []);
  }

  function markBusy(form, submitter) {
    var posts = ["hx-post", "hx-put", "hx-patch", "hx-delete"].some(function (a) { return form.hasAttribute(a); }) ||
      (form.getAttribute("method") || "get").toLowerCase() === "post";
    if (!posts || form.hasAttribute("data-no-busy")) return;
    // After this turn: the browser has read the submitter's name and value by then.
    setTimeout(function () {
      submitButtons(form).forEach(function (b) {
        b.disabled = true;
        if (b === submitter || (!submitter && b === submitButtons(form)[0])) b.setAttribute("aria-busy", "true");
      });
    }, 0);
  }

  function clearBusy(form) {
    submitButtons(form).forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("aria-busy");
    });
  }

  // Back/forward cache: a page shown again must not keep its buttons disabled.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form").forEach(clearBusy);
  });

  // --- Copy to clipboard -------------------------------------------------------------------
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var done = document.execCommand("copy");
      area.remove();
      if (done) resolve(); else reject(new Error("copy refused"));
    });
  }

  function copyFrom(button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) return;
    var text = "value" in target && target.tagName !== "BUTTON" ? target.value : target.textContent;
    var label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    copyText(text.trim()).then(function () {
      button.textContent = "Copied";
      toast("Copied to the clipboard.", "success");
    }, function () {
      button.textContent = "Select and copy";
      toast("The browser did not allow copying: select the text and copy it.", "warning");
    }).then(function () {
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  }

  // --- Clicks and keys ---------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (toggle) {
      var next = document.documentElement.getAttribute("data-theme") === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try { localStorage.setItem("hub-theme", next); } catch (e) {}
      return;
    }
    var navToggle = event.target.closest("[data-nav-toggle]");
    if (navToggle) {
      var open = document.body.classList.toggle("nav-open");
      navToggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    if (event.target.closest(".nav-backdrop")) {
      closeNav();
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      event.preventDefault();
      copyFrom(copy);
      return;
    }
    var close = event.target.closest("[data-dismiss]");
    if (close) {
      dismiss(close.closest(".message"));
      return;
    }
    var demo = event.target.closest("[data-toast]");
    if (demo) {
      toast(demo.getAttribute("data-toast"), demo.getAttribute("data-toast-tone") || "success");
      return;
    }
    // Close open menus when clicking elsewhere.
    document.querySelectorAll("details[open]").forEach(function (d) {
      if (!d.contains(event.target)) d.removeAttribute("open");
    });
  });

  function closeNav() {
    document.body.classList.remove("nav-open");
    var toggle = document.querySelector("[data-nav-toggle]");
    if (toggle) toggle.setAttribute("aria-expanded", "false");
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || (dialog && dialog.open)) return;
    closeNav();
    document.querySelectorAll("details[open]").forEach(function (d) { d.removeAttribute("open"); });
  });

  // --- htmx --------------------------------------------------------------------------------
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });
  // A button that makes an htmx request by itself (hx-post on the button) is busy until the answer.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt instanceof HTMLButtonElement && elt.getAttribute("hx-get") === null) {
      elt.disabled = true;
      elt.setAttribute("aria-busy", "true");
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt instanceof HTMLButtonElement) {
      elt.disabled = false;
      elt.removeAttribute("aria-busy");
    }
    var form = elt && elt.closest ? elt.closest("form") : null;
    if (form) clearBusy(form);
  });
  document.addEventListener("htmx:load", function (event) { armAll(event.detail.elt); });

  armAll(document);
  window.hub = { toast: toast, confirm: askToConfirm };
})();
