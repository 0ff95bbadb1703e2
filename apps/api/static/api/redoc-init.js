// Starts Redoc on the schema named by the page (no inline script: the CSP forbids it), in the
// hub's light or dark colours; redrawn when the theme changes.
(function () {
  var el = document.getElementById("redoc");
  var palettes = {
    light: { text: "#1b1f24", muted: "#5b6572", border: "#dde1e6", panel: "#263238", sidebar: "#f6f7f9", primary: "#3657d6" },
    dark: { text: "#e7eaee", muted: "#9aa4b1", border: "#2c333c", panel: "#0b0e12", sidebar: "#1a1f25", primary: "#7c94ff" },
  };
  function start() {
    var p = palettes[window.hubDocsTheme()];
    Redoc.init(el.dataset.schemaUrl, {
      hideDownloadButton: false,
      theme: {
        colors: { primary: { main: p.primary }, text: { primary: p.text, secondary: p.muted }, border: { dark: p.border, light: p.border } },
        typography: { fontFamily: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", headings: { fontFamily: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif" }, links: { color: p.primary } },
        sidebar: { backgroundColor: p.sidebar, textColor: p.text },
        rightPanel: { backgroundColor: p.panel },
      },
    }, el);
  }
  start();
  document.addEventListener("hub:theme", start);
})();
