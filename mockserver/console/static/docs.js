// Swagger UI over every bundled spec; the specs served here name this server, so "Try it out" calls it.
// The admin token (sessionStorage, this tab, shared with the console; or typed in the header field)
// goes along with calls to the control API.
(async function () {
  const TOKEN_KEY = "mockserver.adminToken";
  let token = sessionStorage.getItem(TOKEN_KEY) || "";
  const field = document.getElementById("admin-token");
  field.value = token;
  field.addEventListener("input", () => {
    token = field.value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  });
  const adminHeaders = token ? { "X-Mockserver-Admin-Token": token } : {};
  const index = await (await fetch("/__admin/specs", { headers: { Accept: "application/json", ...adminHeaders } })).json();
  const links = document.getElementById("spec-links");
  for (const spec of index.specs) {
    for (const format of ["yaml", "json"]) {
      const link = document.createElement("a");
      link.href = spec[format];
      link.textContent = `${spec.name}.${format}`;
      links.append(link);
    }
  }
  const wanted = new URLSearchParams(location.search).get("spec");
  const primary = index.specs.find((s) => s.name === wanted) || index.specs[0];
  window.ui = SwaggerUIBundle({
    urls: index.specs.map((s) => ({ url: s.json, name: s.title })),
    "urls.primaryName": primary.title,
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
    validatorUrl: null,
    requestInterceptor: (request) => {
      const url = new URL(request.url, location.origin);
      if (token && url.origin === location.origin && url.pathname.startsWith("/__admin")) {
        request.headers["X-Mockserver-Admin-Token"] = token;
      }
      return request;
    },
  });
})();
