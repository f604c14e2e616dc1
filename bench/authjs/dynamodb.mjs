// Auth.js (@auth/core) as a Node Lambda handler behind an HTTP API (payload v2), the way a web
// developer would deploy it instead of figma-auth: its Figma provider, sessions stored in
// DynamoDB through its adapter (the database strategy). Bundled (and minified) by esbuild into
// one file, as a Lambda deployment package would be.
import { lambdaHandler } from "./lambda.mjs";
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

export const handler = lambdaHandler(config);
