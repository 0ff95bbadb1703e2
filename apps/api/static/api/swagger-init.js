// Starts Swagger UI on the schema named by the page (no inline script: the CSP forbids it).
(function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The API has a couple of hundred operations: tags start folded (a tag opens on a click, a
    // deep link opens its own), and the filter box finds an operation by tag.
    docExpansion: "none",
    filter: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
  });
})();
