// Auth.js (@auth/core) as a Node Lambda handler behind an HTTP API (payload v2), the way a web
// developer would deploy it instead of figma-auth: its Figma provider, sessions as JWT cookies.
// Bundled (and minified) by esbuild into one file, as a Lambda deployment package would be.
import { Auth } from "@auth/core";
import Figma from "@auth/core/providers/figma";

export const adapter = undefined;
export const config = {
  providers: [Figma({ clientId: "bench-client", clientSecret: "bench-secret" })],
  secret: process.env.AUTHJS_SECRET,
  trustHost: true,
  basePath: "/auth",
  session: { strategy: "jwt" },
};

export async function handler(event) {
  const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
  const headers = new Headers(event.headers);
  if (event.cookies) headers.set("cookie", event.cookies.join("; "));
  const request = new Request(`http://${event.headers.host}${event.rawPath}${query}`, {
    method: event.requestContext.http.method,
    headers,
  });
  const response = await Auth(request, config);
  return { statusCode: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}
