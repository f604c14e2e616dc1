// The demo SPA: everything goes through the figma-auth JS client.
import { FigmaAuth, FigmaAuthError } from "/figma-auth.js";
import { endpoint } from "/config.js";

const $ = (id) => document.getElementById(id);
const mode = localStorage.getItem("demo-mode") || "cookie";
const auth = new FigmaAuth({ endpoint, mode });
let countdownTimer = null;

$("endpoint").textContent = `API ${endpoint}`;
document.querySelector(`input[name="mode"][value="${mode}"]`).checked = true;

function showError(err) {
  const box = $("error");
  box.textContent = err instanceof FigmaAuthError ? `Error: ${err.code}${err.message && err.message !== err.code ? ` — ${err.message}` : ""}` : String(err);
  box.dataset.code = err.code || "";
  if (err.code === "rate_limited" && err.upgradeLink) {  // Figma's limit for this user: say where to raise it
    const link = Object.assign(document.createElement("a"), { href: err.upgradeLink, textContent: " Raise the limit at Figma", target: "_blank", rel: "noopener" });
    box.append(link);
  }
  if (err.code === "rate_limited") {  // back from upgrading: forget the remembered limit, open the file again
    const retry = Object.assign(document.createElement("button"), { id: "clear-limits", type: "button", textContent: "I upgraded — try again" });
    retry.addEventListener("click", () => busy(retry, async () => { await auth.clearRateLimits(); $("file-form").requestSubmit(); }));
    box.append(" ", retry);
  }
  box.hidden = false;
}

function render(view) {
  $("signed-out").hidden = !!view;
  $("signed-in").hidden = !view;
  clearInterval(countdownTimer);
  if (!view) return;
  $("avatar").src = view.user.img_url;
  $("handle").textContent = view.user.handle;
  $("email").textContent = view.user.email;
  $("session-id").textContent = view.session.id.slice(0, 10) + "…";
  $("mode-label").textContent = mode;
  $("status").textContent = view.provider.status;
  $("scope-list").textContent = view.provider.scopes.join(", ");
  const expires = view.provider.expires_at ? Date.parse(view.provider.expires_at) : null;
  $("countdown").dataset.expiresAt = view.provider.expires_at || "";
  const tick = () => {
    if (!expires) return ($("countdown").textContent = "—");
    const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    $("countdown").textContent = (h ? `${h}:` : "") + `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  };
  tick();
  countdownTimer = setInterval(tick, 1000);
}

async function busy(button, work) {
  button.disabled = true;
  $("error").hidden = true;
  try {
    await work();
  } catch (err) {
    showError(err);
    if (err.code === "unauthorized" || err.code === "reauth_required") render(null);
  } finally {
    button.disabled = false;
  }
}

for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener("change", () => {
    localStorage.setItem("demo-mode", radio.value);
    location.reload();
  });
}

$("signin").addEventListener("click", () =>
  busy($("signin"), () => auth.signIn({ success: location.origin + "/", failure: location.origin + "/", scopes: $("scopes").value })));

$("refresh").addEventListener("click", () => busy($("refresh"), async () => render(await auth.refresh())));

$("file-form").addEventListener("submit", (event) => {
  event.preventDefault();
  busy($("open-file"), async () => {
    const key = $("file-key").value.trim();
    const whole = $("whole-file").checked; // the whole document: tens of MB for a real file
    const started = performance.now();
    const response = await auth.figma(`v1/files/${encodeURIComponent(key)}${whole ? "" : "?depth=1"}`); // rejects with rate_limited on a 429
    const text = await response.text();
    const body = JSON.parse(text);
    if (!response.ok) throw new FigmaAuthError(body.error || `figma_${response.status}`, body.message || body.err, response.status);
    $("file").textContent = JSON.stringify({ name: body.name, lastModified: body.lastModified, version: body.version, pages: (body.document?.children || []).map((p) => p.name) }, null, 2);
    $("file").hidden = false;
    // How it came: the read-once cache's verdict, or (over Lambda's 6 MB) from S3 after a 303.
    const cache = response.headers.get("X-Figma-Auth-Cache");
    const how = response.redirected ? "from S3 (over Lambda's 6 MB: a 303 the browser followed)" : `cache: ${cache || "—"}`;
    $("file-meta").textContent = `${(text.length / 1048576).toFixed(1)} MB in ${Math.round(performance.now() - started)} ms, ${how}`;
    $("file-meta").dataset.cache = cache || (response.redirected ? "redirected" : "");
    $("file-meta").dataset.bytes = String(text.length);
    $("file-meta").hidden = false;
  });
});

// "Watch this file": live over the realtime API (auth.watch). The stack holds one Figma webhook
// per file for every watcher; each edit is pushed to this page (no polling).
const seen = [];
let stopWatching = null;
$("watch-file").addEventListener("click", () =>
  busy($("watch-file"), async () => {
    const key = $("file-key").value.trim();
    if (!key) throw new FigmaAuthError("invalid_request", "Type a file key first.");
    stopWatching?.();
    $("watching").textContent = `Connecting to watch ${key}…`;
    $("watching").hidden = false;
    stopWatching = auth.watch(key, showEvent, {
      onStatus: ({ status, reason }) => {
        $("watching").dataset.status = status;
        $("watching").textContent = status === "active"
          ? `Watching ${key} live: its edits appear below as Figma sends them.`
          : `Not watching ${key}: ${status}${reason ? ` — ${reason}` : ""}`;
      },
    });
  }));

function showEvent(event) {
  const at = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  seen.unshift(`${at} · ${event.detail_type} · ${event.detail.file_name || event.detail.file_key || ""}`);
  $("events").replaceChildren(...seen.slice(0, 50).map((text) => Object.assign(document.createElement("li"), { textContent: text })));
  $("events").hidden = false;
  window.dispatchEvent(new CustomEvent("figma-auth:event", { detail: event })); // for tests and your own code
}

auth.onEvent((event) => { if (event.detail_type === "SessionEnded") render(null); });

$("create-jwt").addEventListener("click", () =>
  busy($("create-jwt"), async () => {
    const { jwt, expires_at } = await auth.createJWT();
    const bytes = (part) => Uint8Array.from(atob(part.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    const decode = (part) => JSON.parse(new TextDecoder().decode(bytes(part)));
    const [header, claims] = jwt.split(".").slice(0, 2).map(decode);
    $("jwt-claims").textContent = JSON.stringify({ header, claims, expires_at }, null, 2);
    $("jwt-claims").hidden = false;
  }));

$("signout").addEventListener("click", () => busy($("signout"), async () => { await auth.signOut(); render(null); }));
$("signout-all").addEventListener("click", () => busy($("signout-all"), async () => { await auth.signOut({ all: true }); render(null); }));

async function start() {
  try {
    const completed = await auth.completeSignIn();
    render(completed || (await auth.getSession()));
  } catch (err) {
    render(null);
    if (!(err instanceof FigmaAuthError && err.code === "unauthorized")) showError(err);
  }
}

start();
