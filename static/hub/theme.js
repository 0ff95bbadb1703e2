// Applies the remembered theme before the page paints (loaded synchronously in <head>).
(function () {
  var saved = null;
  try { saved = localStorage.getItem("hub-theme"); } catch (e) {}
  var dark = saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
})();
