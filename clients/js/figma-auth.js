// figma-auth JS client: "Sign in with Figma" against your figma-auth API. No dependencies.
//
//   const auth = new FigmaAuth({ endpoint: "https://api.example.com", mode: "token" });
//   auth.signIn({ success: location.href, failure: location.href });   // ≈ createOAuth2Session
//   await auth.completeSignIn();                                        // token mode: trade ?ticket
//   const { user, provider } = await auth.getSession();                 // ≈ getSession('current')
//   await auth.refresh();                                               // ≈ updateSession('current')
//   const file = await (await auth.figma("v1/files/KEY")).json();       // Figma, via our proxy
//   await auth.signOut({ all: true });                                  // ≈ deleteSessions()
//   const stop = auth.watch("FILE_KEY", (event) => render(event));      // live: a file's events
//
// Figma plugins, VS Code, anything that cannot take a redirect: mode "token" and
//   await auth.signInWithDevice({ open: (url) => figma.openExternal(url), onCode: ({ user_code }) => show(user_code) });

const TOKEN_KEY = "figma-auth:session-token";
const VERIFIER_KEY = "figma-auth:verifier";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** An error from the figma-auth API: `code` is the server's stable `error` value. */
export class FigmaAuthError extends Error {
  constructor(code, message, status = 0) {
    super(message || code);
    this.name = "FigmaAuthError";
    this.code = code;
    this.status = status;
  }
}

/**
 * A Figma API path ("v1/files/KEY?depth=1") that stays on Figma's API: its path part holds no
 * "."/".." segment (raw or percent-encoded), no encoded slash or backslash, and there is no "#".
 * A key taken from your own input can't make the call reach somewhere else.
 */
function figmaPath(path) {
  const text = String(path).replace(/^\/+/, "");
  const refuse = (why) => {
    throw new FigmaAuthError("invalid_path", `${why} (nothing was sent)`);
  };
  if (text.includes("#")) refuse("the path has '#'");
  const segments = text.split("?")[0].split("/");
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop(); // a trailing slash
  for (const segment of segments) {
    let plain;
    try {
      plain = decodeURIComponent(segment);
    } catch {
      refuse("the path has a malformed percent-encoding");
    }
    if (plain === "" || plain === "." || plain === ".." || /[\/\\%]/.test(plain)) {
      refuse(`the path has a segment that is not plain: ${segment.slice(0, 40)}`);
    }
  }
  return text;
}

export class FigmaAuth {
  /**
   * @param {{endpoint: string, mode?: "cookie"|"token", storage?: Storage, fetch?: typeof fetch,
   *          figmaApi?: string, proxy?: boolean}} options
   */
  constructor({ endpoint, mode = "cookie", storage, fetch: fetchImpl, figmaApi = "https://api.figma.com", proxy = true }) {
    if (!endpoint) throw new FigmaAuthError("invalid_request", "FigmaAuth needs { endpoint }");
    if (mode !== "cookie" && mode !== "token") throw new FigmaAuthError("invalid_request", "mode is 'cookie' or 'token'");
    this.endpoint = endpoint.replace(/\/+$/, "");
    this.mode = mode;
    this.storage = storage || globalThis.sessionStorage;
    this.fetch = fetchImpl || globalThis.fetch.bind(globalThis);
    this.figmaApi = figmaApi.replace(/\/+$/, "");
    this.proxy = proxy;
  }

  /** Send the browser to Figma. Returns a promise only because token mode hashes a verifier. */
  async signIn({ success = location.href, failure = location.href, scopes } = {}) {
    const params = new URLSearchParams({ success, failure, mode: this.mode });
    if (scopes && scopes.length) params.set("scopes", [].concat(scopes).join(","));
    if (this.mode === "token") {
      const verifier = randomString(48);
      this.storage.setItem(VERIFIER_KEY, verifier);
      params.set("code_challenge", await s256(verifier));
    }
    location.assign(`${this.endpoint}/auth/figma/authorize?${params}`);
  }

  /**
   * Finish a sign-in on the page Figma returned to. Throws FigmaAuthError when the URL carries
   * ?error=. In token mode trades the #ticket (the fragment: it never reaches your servers) for a
   * session token (kept in sessionStorage) and removes it from the address bar. A ticket this
   * tab did not ask for (a sign-in someone else started) is burned, never redeemed for them, and
   * throws "invalid_grant". Returns the session, or null if nothing to finish.
   */
  async completeSignIn(url = location.href) {
    const here = new URL(url);
    const error = here.searchParams.get("error");
    const fragment = new URLSearchParams(here.hash.slice(1));
    const ticket = fragment.get("ticket");
    if (!error && !ticket) return null;
    here.searchParams.delete("error");
    here.searchParams.delete("error_description");
    fragment.delete("ticket");
    const rest = fragment.toString();
    history.replaceState(history.state, "", here.pathname + here.search + (rest ? `#${rest}` : ""));
    if (error) throw new FigmaAuthError(error, `Sign-in failed: ${error}`);
    const verifier = this.storage.getItem(VERIFIER_KEY);
    this.storage.removeItem(VERIFIER_KEY);
    if (!verifier) {
      // Burn it: redeeming with a verifier nobody has spends the ticket, so whoever started that
      // sign-in (and holds its verifier) cannot redeem it as the person who landed here.
      await this.#json("POST", "/auth/token", { ticket, code_verifier: randomString(48) }, false).catch(() => {});
      throw new FigmaAuthError("invalid_grant", "No sign-in was started in this tab; the ticket was discarded.");
    }
    const body = await this.#json("POST", "/auth/token", { ticket, code_verifier: verifier }, false);
    this.storage.setItem(TOKEN_KEY, body.session_token);
    const { session_token: _, ...view } = body;
    return view;
  }

  /**
   * Device sign-in (RFC 8628), for Figma plugins, the VS Code extension, CLIs: anything that
   * cannot receive a redirect. `onCode({ user_code, verification_uri, verification_uri_complete,
   * expires_in })`: show the code; `open(url)`: open the person's browser there (a plugin calls
   * figma.openExternal). Polls until the person confirmed and consented; resolves to the session
   * view, keeping the session token in `storage` for Bearer calls (use mode "token"). Rejects
   * with FigmaAuthError "access_denied", "expired_token", or "aborted" (`signal`). `clientId`:
   * your app's name, shown on the confirm and done pages (RFC 8628's client_id; never trusted).
   */
  async signInWithDevice({ open, onCode, signal, scopes, clientId } = {}) {
    const body = scopes ? { scopes: [].concat(scopes).join(",") } : {};
    if (clientId) body.client_id = clientId;
    const started = await this.#json("POST", "/auth/device", body, false);
    const { device_code: deviceCode, interval, ...shown } = started;
    if (onCode) await onCode(shown);
    if (open) await open(started.verification_uri_complete);
    let wait = interval;
    for (;;) {
      await pause(wait * 1000, signal);
      try {
        const answer = await this.#json("POST", "/auth/token", { grant_type: DEVICE_GRANT, device_code: deviceCode }, false);
        this.storage.setItem(TOKEN_KEY, answer.session_token);
        const { session_token: _, ...view } = answer;
        return view;
      } catch (err) {
        if (err.code === "slow_down") wait += 5;
        else if (err.code !== "authorization_pending") throw err;
      }
    }
  }

  /** The current session, user and Figma token. Throws FigmaAuthError("unauthorized") when signed out. */
  getSession() {
    return this.#json("GET", "/auth/session");
  }

  /** Renew the Figma access token; with minValidity (s), only if it expires sooner. */
  refresh({ minValidity } = {}) {
    const query = minValidity === undefined ? "" : `?min_validity=${Math.max(0, Math.floor(minValidity))}`;
    return this.#json("POST", `/auth/refresh${query}`);
  }

  /**
   * A short-lived JWT (ES256) naming the signed-in user, for your own API (Appwrite:
   * account.createJWT()). Send it as `Authorization: Bearer <jwt>`; your API verifies it against
   * `${endpoint}/.well-known/jwks.json` (an API Gateway JWT authorizer does this with no code).
   * Resolves to { jwt, expires_at }.
   */
  createJWT() {
    return this.#json("POST", "/auth/jwt");
  }

  /**
   * Watch a Figma file, project or team ({ event_type: "FILE_UPDATE", context: "file", context_id:
   * KEY }): a webhook at Figma whose events reach your EventBridge as "Figma FILE_UPDATE" (the
   * user's connection needs webhooks:write). Resolves to the webhook's view.
   */
  createWebhook({ event_type, context, context_id, description } = {}) {
    return this.#json("POST", "/auth/webhooks", { event_type, context, context_id, ...(description ? { description } : {}) });
  }

  /** The user's webhooks. */
  async listWebhooks() {
    return (await this.#json("GET", "/auth/webhooks")).webhooks;
  }

  /** Delete one of the user's webhooks (at Figma too). */
  async deleteWebhook(id) {
    await this.#json("DELETE", `/auth/webhooks/${encodeURIComponent(id)}`);
  }

  /**
   * Watch a Figma file live over the realtime API: `onEvent({ id, detail_type, detail })` for each
   * of its events ("Figma FILE_UPDATE", …). `onStatus({ file_key, status, reason })` tells whether
   * the watch is "active", "forbidden" (this user cannot open the file) or "unavailable" (no
   * webhook for it: `reason` says why). One socket serves every watch of this client; it is
   * opened with a one-time ticket (POST /auth/realtime), kept alive, and reopened with backoff
   * and a new ticket when it closes (API Gateway ends sockets after 10 idle minutes or 2 hours),
   * its watches resumed. Returns the function that stops this watch.
   */
  watch(fileKey, onEvent, { onStatus } = {}) {
    return this.#channel().watch(String(fileKey), onEvent, onStatus);
  }

  /**
   * The signed-in user's own events over the realtime API ("SessionEnded", "GrantNeedsReauth",
   * "FigmaRateLimited"): `callback({ id, detail_type, detail })`. Returns the function that stops it.
   */
  onEvent(callback) {
    return this.#channel().listen(callback);
  }

  #live = null;

  #channel() {
    if (!this.#live) this.#live = new LiveChannel(() => this.#json("POST", "/auth/realtime"));
    return this.#live;
  }

  /**
   * Forget Figma's rate limits remembered for this user, after they upgraded their seat or plan
   * (the `upgradeLink` of a `rate_limited` error): the next call asks Figma again, and is
   * remembered again if Figma still refuses. Signing in again does not clear them.
   */
  async clearRateLimits() {
    await this.#json("DELETE", "/auth/rate_limits");
  }

  /** The user's sessions: [{ id, created_at, expires_at, current }]. */
  async listSessions() {
    return (await this.#json("GET", "/auth/sessions")).sessions;
  }

  /** End this session; { all: true }: every session of the user; { all: true, disconnect: true }:
   * the user's Figma connection too (even with OFFLINE_ACCESS). */
  async signOut({ all = false, disconnect = false } = {}) {
    try {
      const body = all ? (disconnect ? { all: true, disconnect: true } : { all: true }) : undefined;
      await this.#json("POST", "/auth/logout", body);
    } finally {
      this.storage.removeItem(TOKEN_KEY);
      this.#live?.stop();
      this.#live = null;
    }
  }

  /**
   * Call Figma's REST API (path like "v1/files/KEY"). Through our proxy by default, so the
   * token never reaches the page; with { proxy: false }, directly with the exposed token,
   * refreshing once if Figma rejects it. Returns the fetch Response.
   */
  async figma(path, init = {}) {
    const clean = figmaPath(path);
    if (this.proxy) {
      const response = await this.fetch(`${this.endpoint}/figma/${clean}`, this.#init(init.method || "GET", init));
      if (response.status === 401) await this.#raise(response);
      if (response.status === 429) await this.#rateLimited(response);
      return response;
    }
    const call = async (token) =>
      this.fetch(`${this.figmaApi}/${clean}`, { ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${token}` } });
    let response = await call((await this.getSession()).provider.access_token);
    if (response.status === 401 || response.status === 403) {
      response = await call((await this.refresh()).provider.access_token);
    }
    return response;
  }

  /** The token-mode session token, if any (for your own calls). */
  get sessionToken() {
    return this.storage.getItem(TOKEN_KEY);
  }

  #init(method, init = {}) {
    const headers = { ...(init.headers || {}) };
    const token = this.mode === "token" ? this.sessionToken : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    return { ...init, method, headers, credentials: this.mode === "cookie" ? "include" : "omit" };
  }

  async #json(method, path, body, authenticated = true) {
    const init = authenticated ? this.#init(method) : { method, headers: {}, credentials: "omit" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await this.fetch(`${this.endpoint}${path}`, init);
    } catch (cause) {
      throw new FigmaAuthError("network_error", `Could not reach ${this.endpoint}: ${cause.message}`);
    }
    if (!response.ok) await this.#raise(response);
    return response.status === 204 ? null : response.json();
  }

  /** Figma's 429 (passed on) or ours from the remembered limit: rate_limited, with retryAfter. */
  async #rateLimited(response) {
    let body = {};
    try {
      body = await response.json();
    } catch {
      /* not JSON */
    }
    const header = (name) => response.headers.get(name);
    const figmas = body.error === "rate_limited" || body.err !== undefined || header("X-Figma-Rate-Limit-Type");
    if (!figmas) throw new FigmaAuthError(body.error || "http_429", body.message, 429); // e.g. API Gateway's throttle
    const retryAfter = Number(body.retry_after ?? header("Retry-After")) || null;
    const error = new FigmaAuthError(
      "rate_limited",
      body.message || `Figma's rate limit is reached; retry in ${retryAfter ?? "a while"} s.`,
      429,
    );
    error.retryAfter = retryAfter;
    error.tier = body.tier ?? null;
    error.scope = body.scope ?? null;
    error.upgradeLink = body.upgrade_link ?? header("X-Figma-Upgrade-Link");
    error.limitType = header("X-Figma-Rate-Limit-Type");
    throw error;
  }

  async #raise(response) {
    let body = {};
    try {
      body = await response.json();
    } catch {
      /* not JSON: keep the status */
    }
    if (body.error === "unauthorized" && this.mode === "token") this.storage.removeItem(TOKEN_KEY);
    throw new FigmaAuthError(body.error || `http_${response.status}`, body.message, response.status);
  }
}

const KEEPALIVE_MS = 5 * 60 * 1000; // under API Gateway's 10-minute idle limit
const MAX_BACKOFF_MS = 30000;

/** One WebSocket for every watch of a client (see FigmaAuth#watch). */
class LiveChannel {
  constructor(ticket) {
    this.ticket = ticket; // () => Promise<{ url, expires_in }>
    this.files = new Map(); // file key -> Set of { onEvent, onStatus }
    this.listeners = new Set(); // the user's own events
    this.seen = []; // recent event ids: a redelivery is dropped
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
  }

  watch(fileKey, onEvent, onStatus) {
    const entry = { onEvent, onStatus };
    const first = !this.files.has(fileKey);
    if (first) this.files.set(fileKey, new Set());
    this.files.get(fileKey).add(entry);
    if (first) this.#send({ action: "watch", file_key: fileKey });
    this.#ensure();
    return () => {
      const entries = this.files.get(fileKey);
      if (!entries || !entries.delete(entry) || entries.size) return;
      this.files.delete(fileKey);
      this.#send({ action: "unwatch", file_key: fileKey });
      this.#idle();
    };
  }

  listen(callback) {
    this.listeners.add(callback);
    this.#ensure();
    return () => {
      this.listeners.delete(callback);
      this.#idle();
    };
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.keepalive);
    this.socket?.close(1000);
    this.socket = null;
  }

  #idle() {
    if (!this.files.size && !this.listeners.size) this.stop();
  }

  #send(message) {
    if (this.socket?.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  async #ensure() {
    this.stopped = false;
    if (this.socket || this.opening) return;
    this.opening = true;
    try {
      const { url } = await this.ticket();
      if (this.stopped) return;
      const socket = new WebSocket(url);
      this.socket = socket;
      socket.onopen = () => {
        this.attempt = 0;
        for (const fileKey of this.files.keys()) this.#send({ action: "watch", file_key: fileKey });
        clearInterval(this.keepalive);
        this.keepalive = setInterval(() => this.#send({ action: "ping" }), KEEPALIVE_MS);
      };
      socket.onmessage = (message) => this.#dispatch(message.data);
      socket.onclose = () => {
        clearInterval(this.keepalive);
        if (this.socket === socket) this.socket = null;
        this.#retry();
      };
    } catch (err) {
      if (err.code === "unauthorized" || err.code === "not_found") return this.stop(); // signed out, or no realtime API
      this.#retry();
    } finally {
      this.opening = false;
    }
  }

  #retry() {
    if (this.stopped || (!this.files.size && !this.listeners.size)) return;
    const wait = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.#ensure(), wait);
  }

  #dispatch(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "watching") {
      for (const entry of this.files.get(message.file_key) || []) entry.onStatus?.(message);
      return;
    }
    if (message.type !== "event") return;
    if (message.id) {
      if (this.seen.includes(message.id)) return;
      this.seen.push(message.id);
      if (this.seen.length > 200) this.seen.shift();
    }
    const event = { id: message.id, detail_type: message.detail_type, detail: message.detail };
    const fileKey = message.detail?.file_key;
    if (String(message.detail_type).startsWith("Figma ") && this.files.has(fileKey)) {
      for (const entry of this.files.get(fileKey)) entry.onEvent?.(event);
    } else {
      for (const callback of this.listeners) callback(event);
    }
  }
}

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const aborted = () => reject(new FigmaAuthError("aborted", "Sign-in was cancelled."));
    if (signal?.aborted) return aborted();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); aborted(); }, { once: true });
  });
}

function randomString(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function s256(text) {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

function base64url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
