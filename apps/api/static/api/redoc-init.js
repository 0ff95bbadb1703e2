// Starts Redoc on the schema named by the page (no inline script: the CSP forbids it).
(function () {
  var el = document.getElementById("redoc");
  Redoc.init(el.dataset.schemaUrl, { hideDownloadButton: false }, el);
})();
