// Auth.js (@auth/core) as a Node Lambda handler behind an HTTP API (payload v2), the way a web
// developer would deploy it instead of figma-auth: its Figma provider, sessions as JWT cookies.
// Bundled (and minified) by esbuild into one file, as a Lambda deployment package would be.
import { lambdaHandler } from "./lambda.mjs";
import Figma from "@auth/core/providers/figma";

export const adapter = undefined;
export const config = {
  providers: [Figma({ clientId: "bench-client", clientSecret: "bench-secret" })],
  secret: process.env.AUTHJS_SECRET,
  trustHost: true,
  basePath: "/auth",
  session: { strategy: "jwt" },
};

export const handler = lambdaHandler(config);
