export type Mode = "cookie" | "token";

export interface SessionView {
  session: { id: string; created_at: string; expires_at: string };
  user: { id: string; handle: string | null; email: string | null; img_url: string | null };
  provider: {
    name: "figma";
    access_token?: string;
    expires_at: string | null;
    scopes: string[];
    /** Scopes Figma stopped granting at a refresh; a sign-in asking for them brings them back. */
    revoked_scopes: string[];
    /** Figma's rate limits in force for this user (their 429s, remembered; empty when none). */
    rate_limits: RateLimit[];
    status: "active" | "reauth_required";
  };
}

export interface RateLimit {
  /** Figma's endpoint tier: 1 (files, nodes, images) is the strictest. */
  tier: number;
  /** "user", or "file:<key>" (the limit of that file's plan). */
  scope: string;
  /** When Figma takes these calls again (ISO time). */
  until: string;
  /** "low": the seat or plan is the limit; "high": a burst. */
  type: string | null;
  plan_tier: string | null;
  upgrade_link: string | null;
}

export interface Webhook {
  /** Figma's webhook id. */
  id: string;
  event_type: "FILE_UPDATE" | "FILE_VERSION_UPDATE" | "FILE_DELETE" | "LIBRARY_PUBLISH" | "FILE_COMMENT" | "DEV_MODE_STATUS_UPDATE";
  context: "team" | "project" | "file";
  context_id: string;
  /** paused: the user's Figma grant is dead (they must sign in again). */
  status: "active" | "paused";
  created_at: string;
  description?: string | null;
}

export interface SessionSummary {
  id: string;
  created_at: string;
  expires_at: string;
  current: boolean;
  /** How the session was made: cookie sign-in, token mode, or device sign-in. */
  client: "web" | "token" | "device";
}

export interface DeviceCode {
  /** Show it to the person: 8 letters as XXXX-XXXX. */
  user_code: string;
  verification_uri: string;
  /** Open this (it carries the code); the page asks the person to confirm it matches. */
  verification_uri_complete: string;
  expires_in: number;
}

export interface JWT {
  /** ES256, signed by a KMS key: claims iss, aud, sub (Figma user id), sid, iat, nbf, exp, jti, name, email, picture. */
  jwt: string;
  /** When it stops being accepted (ISO 8601, UTC). It does not end at sign-out. */
  expires_at: string;
}

/** Every `code` a FigmaAuthError can carry: the server's (README's error table) and the client's own. */
export type ErrorCode =
  | "invalid_request"
  | "invalid_redirect"
  | "invalid_scope"
  | "invalid_state"
  | "invalid_grant"
  | "invalid_target"
  | "invalid_path"
  | "access_denied"
  | "unauthorized"
  | "reauth_required"
  | "csrf_rejected"
  | "not_found"
  | "authorization_pending"
  | "slow_down"
  | "expired_token"
  | "figma_error"
  | "figma_unavailable"
  | "response_too_large"
  | "temporarily_unavailable"
  | "rate_limited"
  | "webhook_quota"
  | "webhook_forbidden"
  | "insufficient_scope"
  | "server_error"
  /** the client's own: the API could not be reached (offline, DNS, CORS) */
  | "network_error"
  /** the client's own: signInWithDevice was cancelled through its AbortSignal */
  | "aborted"
  /** the client's own: an answer without an error code (e.g. API Gateway's 429 or 503) */
  | `http_${number}`;

export class FigmaAuthError extends Error {
  /** A stable code, e.g. "unauthorized", "reauth_required", "access_denied". */
  code: ErrorCode;
  /** The HTTP status (0 for the client's own errors). */
  status: number;
  /** rate_limited: seconds until Figma takes the call again (may be days for a View seat). */
  retryAfter?: number | null;
  /** rate_limited: Figma's endpoint tier (1 strictest); null when Figma's own 429 was passed on. */
  tier?: number | null;
  /** rate_limited: "user", or "file:<key>" (that file's plan is the limit). */
  scope?: string | null;
  /** rate_limited: Figma's upgrade link (X-Figma-Upgrade-Link), when it gave one. */
  upgradeLink?: string | null;
  /** rate_limited: "low" (the seat or plan is the limit) or "high" (a burst). */
  limitType?: string | null;
}

/** An event pushed over the realtime API: a watched file's ("Figma FILE_UPDATE", …) or the user's own. */
export interface LiveEvent {
  /** EventBridge's event id (the client drops a redelivery of the same id). */
  id: string;
  detail_type: "Figma FILE_UPDATE" | "Figma FILE_VERSION_UPDATE" | "Figma FILE_DELETE" | "Figma FILE_COMMENT" | "SessionEnded" | "GrantNeedsReauth" | "FigmaRateLimited" | (string & {});
  /** The event's detail as published (Figma's delivery without its passcode, plus user_id and webhook_id). */
  detail: { file_key?: string; file_name?: string; timestamp?: string; user_id?: string; [field: string]: unknown };
}

/** Whether a watch gets its file's events. */
export interface WatchStatus {
  type: "watching";
  file_key: string;
  /** forbidden: this user cannot open the file; unavailable: no webhook for it (see reason). */
  status: "active" | "forbidden" | "unavailable";
  reason?: string;
}

export interface FigmaAuthOptions {
  /** Your figma-auth API's base URL (the stack's ApiUrl output). */
  endpoint: string;
  /** "cookie" (same-site API) or "token" (cross-site: third-party cookies are blocked). */
  mode?: Mode;
  storage?: Storage;
  fetch?: typeof fetch;
  figmaApi?: string;
  /** Call Figma through the figma-auth proxy (default) or directly with the exposed token. */
  proxy?: boolean;
}

export class FigmaAuth {
  constructor(options: FigmaAuthOptions);
  signIn(options?: { success?: string; failure?: string; scopes?: string | string[] }): Promise<void>;
  completeSignIn(url?: string): Promise<Omit<SessionView, never> | null>;
  /** Device sign-in (RFC 8628) for Figma plugins, VS Code, CLIs; use mode "token". */
  signInWithDevice(options?: {
    open?: (url: string) => void | Promise<void>;
    onCode?: (code: DeviceCode) => void | Promise<void>;
    signal?: AbortSignal;
    /** your app's name, shown on the confirm and done pages (RFC 8628 client_id; printable ASCII, ≤ 100) */
    clientId?: string;
    scopes?: string | string[];
  }): Promise<SessionView>;
  getSession(): Promise<SessionView>;
  refresh(options?: { minValidity?: number }): Promise<SessionView>;
  /** A short-lived JWT for your own API (Appwrite: account.createJWT()). */
  createJWT(): Promise<JWT>;
  listSessions(): Promise<SessionSummary[]>;
  /** After the user upgraded at Figma: forget the rate limits remembered for them (the next call asks Figma). */
  clearRateLimits(): Promise<void>;
  /** End this session; `all`: every session of the user; `disconnect` (with `all`): the Figma connection too. */
  signOut(options?: { all?: boolean; disconnect?: boolean }): Promise<void>;
  /** Watch a file, project or team: Figma's events reach your EventBridge as "Figma <event_type>". */
  createWebhook(options: {
    event_type: Webhook["event_type"];
    context: Webhook["context"];
    context_id: string;
    description?: string;
  }): Promise<Webhook>;
  listWebhooks(): Promise<Webhook[]>;
  /**
   * Watch a file live (the realtime API): `onEvent` for each of its events, `onStatus` when the
   * watch becomes active, forbidden or unavailable. Reconnects with backoff and a new ticket.
   * Returns the function that stops this watch.
   */
  watch(fileKey: string, onEvent: (event: LiveEvent) => void, options?: { onStatus?: (status: WatchStatus) => void }): () => void;
  /** The user's own events (SessionEnded, GrantNeedsReauth, FigmaRateLimited). Returns the function that stops it. */
  onEvent(callback: (event: LiveEvent) => void): () => void;
  deleteWebhook(id: string): Promise<void>;
  /** Figma's REST API through the proxy. Rejects with `rate_limited` (retryAfter, tier, upgradeLink) on a 429. */
  figma(path: string, init?: RequestInit): Promise<Response>;
  readonly sessionToken: string | null;
}
