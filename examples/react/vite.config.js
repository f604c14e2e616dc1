import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The figma-auth JS client comes from its npm package, figma-auth-client: here the tarball
// `make run` / `make test` pack from clients/js (package.json names it), in your app
// `npm install` of that tarball (or of the published package, once it is).
export default defineConfig({
  base: process.env.BASE_PATH || "/",
  plugins: [react()],
  // strictPort: fail when 5173 is taken instead of moving to a port ALLOWED_ORIGINS doesn't list
  // (a sign-in would end on invalid_redirect); choose another with `npm run dev -- --port 5180`.
  server: { port: 5173, strictPort: true },
});
