// An HTTP API (payload v2) event as a Web Request for Auth.js, and its Response back as
// Lambda's answer: the adapter every Auth.js-on-Lambda deployment writes.
import { Auth } from "@auth/core";

export function lambdaHandler(config) {
  return async function handler(event) {
    const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
    const headers = new Headers(event.headers);
    if (event.cookies) headers.set("cookie", event.cookies.join("; "));
    const request = new Request(`http://${event.headers.host}${event.rawPath}${query}`, {
      method: event.requestContext.http.method,
      headers,
    });
    const response = await Auth(request, config);
    return { statusCode: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
  };
}
