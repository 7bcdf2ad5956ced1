// Boots Swagger UI on the service's own OpenAPI document. It is a file served beside the viewer,
// not an inline script, so the page's Content-Security-Policy allows scripts from the service only.
"use strict";

window.ui = SwaggerUIBundle({
  // openapi.json lies beside the page (/docs), wherever the service is mounted.
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  // Every operation can be sent from the page at once, without a "Try it out" click first.
  tryItOutEnabled: true,
  displayRequestDuration: true,
  // A bearer token given to "Authorize" (shown when the document declares the scheme, i.e. when
  // authentication is on) survives reloading the page.
  persistAuthorization: true,
  // Nothing is sent elsewhere: no online validator, and no ?url= that points the viewer at
  // another document.
  validatorUrl: null,
  queryConfigEnabled: false,
});
