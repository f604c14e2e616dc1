// make bench's driver for the Auth.js peer: node runner.mjs seed|cold|warm MODE [N]
//   seed: a signed-in user for MODE (jwt: an encrypted JWT cookie; dynamodb: a user and a
//         session row through the adapter) -> {"cookie": ...}
//   cold: import the bundle (a fresh process: Lambda's cold start) and serve one GET /auth/session
//   warm: serve N more after a first, and print each call's milliseconds
import { performance } from "node:perf_hooks";

const [command, mode, n = "500"] = process.argv.slice(2);
process.env.AUTHJS_MODE = mode;

function event(cookie) {
  return {
    version: "2.0",
    rawPath: "/auth/session",
    rawQueryString: "",
    cookies: [cookie],
    headers: { host: "127.0.0.1:3000", accept: "application/json" },
    requestContext: { http: { method: "GET", path: "/auth/session" } },
  };
}

if (command === "seed") {
  const { encode } = await import("@auth/core/jwt");
  if (mode === "jwt") {
    const token = { name: "Ada Lovelace", email: "ada@example.com", sub: "1143925780461227139" };
    const value = await encode({ token, secret: process.env.AUTHJS_SECRET, salt: "authjs.session-token" });
    console.log(JSON.stringify({ cookie: `authjs.session-token=${value}` }));
  } else {
    const { adapter } = await import(`./dist/${mode}.mjs`);
    const user = await adapter.createUser({ id: crypto.randomUUID(), email: "ada@example.com", emailVerified: null, name: "Ada Lovelace" });
    const sessionToken = crypto.randomUUID();
    await adapter.createSession({ sessionToken, userId: user.id, expires: new Date(Date.now() + 86400e3) });
    console.log(JSON.stringify({ cookie: `authjs.session-token=${sessionToken}` }));
  }
} else {
  const cookie = process.env.AUTHJS_COOKIE;
  const { handler } = await import(`./dist/${mode}.mjs`);
  const first = await handler(event(cookie));
  const user = JSON.parse(first.body || "null")?.user;
  if (first.statusCode !== 200 || !user) throw new Error(`not signed in: ${first.statusCode} ${first.body}`);
  const samples = [];
  if (command === "warm") {
    for (let i = 0; i < Number(n); i++) {
      const started = performance.now();
      await handler(event(cookie));
      samples.push(performance.now() - started);
    }
  }
  console.log(JSON.stringify({ status: first.statusCode, samples }));
}
