/* global window */
// Starts Swagger UI on this API's own contract. A file, not an inline script: /docs's CSP runs none. No validator
// badge (it would call validator.swagger.io): /docs makes no request to another origin.
window.addEventListener('DOMContentLoaded', () => {
  window.ui = window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    validatorUrl: null,
    deepLinking: true,
  });
});
