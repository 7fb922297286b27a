// Every call the console makes: the control API (/__admin) and the vendors' public APIs, same-origin.

const TOKEN_KEY = "mockserver.adminToken";
// The console's own vendor credentials; registered through /__admin/api-keys when the server
// runs with --strict-auth (and again after a reset forgets them).
export const CONSOLE_KEYS = { posthog: "phx_mockserver_console", launchdarkly: "api-mockserver-console" };

export class ApiError extends Error {
  constructor(response, message) {
    super(message);
    this.status = response.status;
    this.body = response.data;
  }
}

let askToken = null;
let pendingAsk = null;
let declined = false; // the person cancelled the token dialog: background calls stop asking

// The app supplies the dialog that asks for the admin token: (reason) => Promise<string | null>.
export function onTokenNeeded(ask) {
  askToken = ask;
}

async function send(method, url, { headers = {}, body, contentType } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = contentType || "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  return { status: response.status, ok: response.ok, data, headers: response.headers };
}

function tokenHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { "X-Mockserver-Admin-Token": token } : {};
}

async function token(reason) {
  if (!askToken || declined) return null;
  pendingAsk = pendingAsk || askToken(reason).finally(() => { pendingAsk = null; });
  const entered = await pendingAsk;
  declined = !entered;
  return entered;
}

// The header's "Admin token" button: enter (or replace) the token by hand; an empty one forgets it.
export async function changeToken() {
  if (!askToken) return;
  const entered = await askToken("Enter the admin token for this server (empty to forget it).", true);
  if (entered === null) return;
  declined = false;
  if (entered) sessionStorage.setItem(TOKEN_KEY, entered);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// A control-API call; a 401 asks for the admin token once and retries with it.
export async function adminCall(method, path, body) {
  let res = await send(method, `/__admin${path}`, { headers: tokenHeaders(), body });
  for (let tries = 0; res.status === 401 && tries < 2; tries++) {
    const hadToken = Boolean(sessionStorage.getItem(TOKEN_KEY));
    const entered = await token(hadToken ? "The server refused that token." : "This server needs its admin token.");
    if (!entered) break;
    sessionStorage.setItem(TOKEN_KEY, entered);
    res = await send(method, `/__admin${path}`, { headers: tokenHeaders(), body });
  }
  if (res.status === 401 && declined) throw new ApiError(res, "The control API needs the admin token: use “Admin token” at the top.");
  if (!res.ok) throw new ApiError(res, adminMessage(res));
  return res.data;
}

export const admin = {
  get: (path) => adminCall("GET", path),
  post: (path, body) => adminCall("POST", path, body),
  put: (path, body) => adminCall("PUT", path, body),
  patch: (path, body) => adminCall("PATCH", path, body),
  del: (path) => adminCall("DELETE", path),
};

function adminMessage(res) {
  const body = res.data;
  if (body && typeof body === "object" && body.detail) return body.field ? `${body.detail} (${body.field})` : body.detail;
  return `The control API answered HTTP ${res.status}.`;
}

// A vendor's error, in its own words: PostHog {detail, attr}; LaunchDarkly {code, message}.
export function vendorMessage(res) {
  const body = res.data;
  if (body && typeof body === "object") {
    if (body.detail) return body.attr ? `${body.detail} (${body.attr})` : body.detail;
    if (body.message) return body.message;
  }
  if (typeof body === "string" && body) return body.slice(0, 300);
  return `HTTP ${res.status}`;
}

const AUTH = {
  posthog: () => ({ Authorization: `Bearer ${CONSOLE_KEYS.posthog}` }),
  launchdarkly: () => ({ Authorization: CONSOLE_KEYS.launchdarkly, "LD-API-Version": "beta" }),
};

export async function registerKeys() {
  await admin.post("/api-keys", { vendor: "posthog", key: CONSOLE_KEYS.posthog, scopes: ["*"] });
  await admin.post("/api-keys", { vendor: "launchdarkly", key: CONSOLE_KEYS.launchdarkly, role: "admin" });
}

// A vendor call with the console's key. Answers {status, ok, data}; the caller shows refusals.
export async function vendorCall(name, method, path, body, contentType) {
  const call = () => send(method, path, { headers: AUTH[name](), body, contentType });
  let res = await call();
  if (res.status === 401) {
    // --strict-auth accepts registered keys only: register the console's and try once more.
    await registerKeys();
    res = await call();
  }
  return res;
}

// Like vendorCall, but a refusal throws with the vendor's message.
export async function vendorData(name, method, path, body, contentType) {
  const res = await vendorCall(name, method, path, body, contentType);
  if (!res.ok) throw new ApiError(res, vendorMessage(res));
  return res.data;
}
