// init.js starts Swagger UI on the page that package docsui serves. It is a
// file rather than an inline script so that the page runs under a
// Content-Security-Policy with script-src 'self'. The page passes the URL of
// the OpenAPI document in the data-spec-url attribute of #swagger-ui.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // Keep the pasted bearer token across reloads (stored in localStorage).
    persistAuthorization: true,
    tryItOutEnabled: true,
    displayOperationId: true,
    displayRequestDuration: true,
    // The default validator badge would load an image from the internet.
    validatorUrl: null,
  });
})();
