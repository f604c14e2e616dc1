// A CLI signing in the way a stock RFC 8628 client does it, from the issuer URL alone, with
// panva's openid-client: RFC 8414 discovery, device authorization, then polling the token
// endpoint as the library decides. One JSON line per step on stdout, for the test to read.
//
//   node device_login.mjs ISSUER SCOPE [--discovery oauth2|oidc] [--interval N] [--abort-after S]
import * as client from "openid-client";

const [issuer, scope, ...rest] = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = rest.indexOf(name);
  return at === -1 ? fallback : rest[at + 1];
};
const say = (event, body) => process.stdout.write(JSON.stringify({ event, ...body }) + "\n");

try {
  const config = await client.discovery(new URL(issuer), "figma-cli", undefined, client.None(), {
    algorithm: flag("--discovery", "oauth2"),
    execute: [client.allowInsecureRequests], // the local stack is plain http on 127.0.0.1
  });
  const metadata = config.serverMetadata();
  const started = await client.initiateDeviceAuthorization(config, { scope });
  say("started", {
    issuer: metadata.issuer,
    token_endpoint: metadata.token_endpoint,
    user_code: started.user_code,
    verification_uri_complete: started.verification_uri_complete,
    interval: started.interval,
  });
  const interval = flag("--interval", undefined);
  const abortAfter = flag("--abort-after", undefined);
  const tokens = await client.pollDeviceAuthorizationGrant(
    config,
    interval === undefined ? started : { ...started, interval: Number(interval) },
    undefined,
    abortAfter === undefined ? undefined : { signal: AbortSignal.timeout(Number(abortAfter) * 1000) },
  );
  say("token", {
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    expires_in: tokens.expiresIn(),
    scope: tokens.scope,
  });
} catch (error) {
  say("error", { name: error.name, code: error.code ?? null, error: error.error ?? null, message: error.message });
}
