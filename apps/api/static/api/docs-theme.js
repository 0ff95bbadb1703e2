// The API reference pages follow the hub's light/dark theme (static/hub/theme.js sets data-theme);
// the toggle in their bar switches it, remembers it like the dashboard's, and redraws Redoc.
window.hubDocsTheme = function () {
  return document.documentElement.getAttribute("data-theme") === "dark" ? "dark" : "light";
};
document.addEventListener("click", function (event) {
  if (!event.target.closest("[data-theme-toggle]")) return;
  var next = window.hubDocsTheme() === "dark" ? "light" : "dark";
  document.documentElement.setAttribute("data-theme", next);
  try { localStorage.setItem("hub-theme", next); } catch (e) {}
  document.dispatchEvent(new CustomEvent("hub:theme", { detail: next }));
});
