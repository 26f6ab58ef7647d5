// Starts Swagger UI on /docs with the app's OpenAPI document. A file of its own, not an
// inline script: the docs page's Content-Security-Policy allows scripts from this site only.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
});
