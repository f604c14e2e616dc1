import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const client = fileURLToPath(new URL("../../clients/js/figma-auth.js", import.meta.url));

// The figma-auth JS client is one dependency-free file: in your app, copy clients/js/figma-auth.js
// (and figma-auth.d.ts) into src/ and import it from there. Here it is imported in place.
export default defineConfig({
  base: process.env.BASE_PATH || "/",
  plugins: [react()],
  resolve: { alias: { "figma-auth": client } },
  // strictPort: fail when 5173 is taken instead of moving to a port ALLOWED_ORIGINS doesn't list
  // (a sign-in would end on invalid_redirect); choose another with `npm run dev -- --port 5180`.
  server: { port: 5173, strictPort: true, fs: { allow: ["..", "../.."] } },
});
