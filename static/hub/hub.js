// The shell's small behaviours: theme toggle, mobile navigation, confirmations, htmx CSRF.
(function () {
  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

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
    if (event.key !== "Escape") return;
    closeNav();
    document.querySelectorAll("details[open]").forEach(function (d) { d.removeAttribute("open"); });
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });
})();
