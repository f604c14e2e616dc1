// Auth.js (@auth/core) as a Node Lambda handler behind an HTTP API (payload v2), the way a web
// developer would deploy it instead of figma-auth: its Figma provider, sessions stored in
// DynamoDB through its adapter (the database strategy). Bundled (and minified) by esbuild into
// one file, as a Lambda deployment package would be.
import { Auth } from "@auth/core";
import Figma from "@auth/core/providers/figma";
import { DynamoDBAdapter } from "@auth/dynamodb-adapter";
import { DynamoDB } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

const env = process.env;
export const adapter = DynamoDBAdapter(
  DynamoDBDocument.from(
    new DynamoDB({
      endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
      region: env.AWS_DEFAULT_REGION || "us-east-1",
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    }),
    { marshallOptions: { convertEmptyValues: true, removeUndefinedValues: true, convertClassInstanceToMap: true } },
  ),
  { tableName: env.AUTHJS_TABLE },
);

export const config = {
  providers: [Figma({ clientId: "bench-client", clientSecret: "bench-secret" })],
  secret: env.AUTHJS_SECRET,
  trustHost: true,
  basePath: "/auth",
  adapter,
  session: { strategy: "database" },
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
