export type Mode = "cookie" | "token";

export interface SessionView {
  session: { id: string; created_at: string; expires_at: string };
  user: { id: string; handle: string; email: string; img_url: string };
  provider: {
    name: "figma";
    access_token?: string;
    expires_at: string | null;
    scopes: string[];
    status: "active" | "reauth_required";
  };
}

export interface SessionSummary {
  id: string;
  created_at: string;
  expires_at: string;
  current: boolean;
  /** How the session was made: cookie sign-in, token mode, or device sign-in. */
  client: "web" | "token" | "device";
}

export interface JWT {
  /** ES256, signed by a KMS key: claims iss, aud, sub (Figma user id), sid, iat, nbf, exp, jti, name, email, picture. */
  jwt: string;
  /** When it stops being accepted (ISO 8601, UTC). It does not end at sign-out. */
  expires_at: string;
}

export class FigmaAuthError extends Error {
  /** The server's stable error code, e.g. "unauthorized", "reauth_required", "access_denied". */
  code: string;
  status: number;
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
  getSession(): Promise<SessionView>;
  refresh(options?: { minValidity?: number }): Promise<SessionView>;
  /** A short-lived JWT for your own API (Appwrite: account.createJWT()). */
  createJWT(): Promise<JWT>;
  listSessions(): Promise<SessionSummary[]>;
  /** End this session; `all`: every session of the user; `disconnect` (with `all`): the Figma connection too. */
  signOut(options?: { all?: boolean; disconnect?: boolean }): Promise<void>;
  figma(path: string, init?: RequestInit): Promise<Response>;
  readonly sessionToken: string | null;
}
