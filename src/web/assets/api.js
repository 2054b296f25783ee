// The API, by relative URL: the page is served by the API itself, under whatever stage prefix it has.

const TIMEOUT_MS = 15000;

/** The request never got an HTTP answer (offline, DNS, timeout). */
export class NetworkError extends Error {}

function withTimeout(signal) {
  if (typeof AbortSignal.timeout !== "function") return signal;
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  if (!signal) return timeout;
  return typeof AbortSignal.any === "function" ? AbortSignal.any([signal, timeout]) : signal;
}

/** {status, data}: data is the parsed JSON body, or null (a gateway's HTML, an empty 204). */
async function call(method, path, { body, signal } = {}) {
  const options = {
    method,
    headers: { accept: "application/json" },
    cache: "no-store",
    credentials: "same-origin",
    signal: withTimeout(signal),
  };
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new NetworkError(error?.name === "TimeoutError" ? "timed out" : "unreachable");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Not JSON: the status alone says what happened.
  }
  return { status: response.status, data };
}

const user = (name) => `api/subscriptions/${encodeURIComponent(name)}`;

export const api = {
  pick: (name, { deck, draw }, signal) => call("GET", `${user(name)}/likes/random?deck=${deck}&draw=${draw}`, { signal }),
  subscription: (name, signal) => call("GET", user(name), { signal }),
  subscribe: (name, signal) => call("POST", "api/subscriptions", { body: { username: name }, signal }),
  // The account: who is signed in (401 when nobody), and what its owner may do with its subscription.
  me: (signal) => call("GET", "api/me", { signal }),
  share: (name, visibility) => call("PATCH", user(name), { body: { visibility } }),
  disconnect: (name) => call("DELETE", user(name)),
  signOut: () => call("POST", "auth/logout", { body: {} }),
  // An archive import: the presigned POST for its bundle (201, or 409 import_running), then its progress.
  startImport: (name, signal) => call("POST", `${user(name)}/imports`, { body: {}, signal }),
  importStatus: (name, id, signal) => call("GET", `${user(name)}/imports/${encodeURIComponent(id)}`, { signal }),
};

/**
 * "Connect with X": the login route, relative to the page, coming back to `next` (a path of this app, the
 * stage prefix included, as the callback accepts it; the page's own address by default).
 */
export function loginHref(next = location.pathname + location.search) {
  return `auth/x/login?next=${encodeURIComponent(next)}`;
}

/** The API's error message ({"error": {"message"}}) or null. */
export function errorOf(data) {
  const error = data && typeof data === "object" ? data.error : null;
  return error && typeof error === "object" ? error : null;
}
