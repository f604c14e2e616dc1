// useFigmaAuth(): "Sign in with Figma" state for React, safe under StrictMode.
//
// completeSignIn() must run once per page load (it redeems a one-time ticket and clears the
// URL), but StrictMode mounts every component twice and any component may call the hook: so
// the first call starts it, and everyone (getSession included) waits for that one promise.
// No top-level await: an error (?error=access_denied) becomes state, not a failed module.
import { useCallback, useEffect, useState } from "react";
import { FigmaAuth, FigmaAuthError } from "figma-auth-client";

export const auth = new FigmaAuth({
  endpoint: import.meta.env.VITE_FIGMA_AUTH_URL || "http://127.0.0.1:3000",
  mode: import.meta.env.VITE_FIGMA_AUTH_MODE || "token", // the API is on another site than the app
});

// What this app does with Figma, and so what it asks for: who you are, your files' content, and
// (to watch a file live) its metadata, proven with /meta, and a webhook when you can edit it.
export const SCOPES = ["current_user:read", "file_content:read", "file_metadata:read", "webhooks:write"];

let settled = null;

function settle() {
  settled ??= auth
    .completeSignIn()
    .then((view) => view ?? auth.getSession())
    .then(
      (view) => ({ view, error: null }),
      (error) => ({ view: null, error: error instanceof FigmaAuthError && error.code === "unauthorized" ? null : error }),
    );
  return settled;
}

export function useFigmaAuth() {
  const [state, setState] = useState({ loading: true, view: null, error: null });

  useEffect(() => {
    let mounted = true;
    settle().then((result) => mounted && setState({ loading: false, ...result }));
    return () => {
      mounted = false;
    };
  }, []);

  const signIn = useCallback(() => {
    const here = window.location.origin + window.location.pathname;
    auth.signIn({ success: here, failure: here, scopes: SCOPES }).catch((error) => setState((s) => ({ ...s, error })));
  }, []);

  const signOut = useCallback(async () => {
    try {
      await auth.signOut();
      settled = Promise.resolve({ view: null, error: null });
      setState({ loading: false, view: null, error: null });
    } catch (error) {
      setState((s) => ({ ...s, error }));
    }
  }, []);

  return { ...state, signIn, signOut };
}
