// Builds the console (console.html) and the member pages (claim.html, center.html) into dist/,
// which the quan binary embeds. `npm run dev` proxies the API to a running `quan serve`.
import { resolve } from "node:path";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const api = process.env.QUAN_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: process.env.QUAN_WEB_OUT ?? "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      input: {
        console: resolve(import.meta.dirname, "console.html"),
        claim: resolve(import.meta.dirname, "claim.html"),
        center: resolve(import.meta.dirname, "center.html"),
      },
    },
  },
  server: {
    proxy: { "/v1": api, "/s": api, "/healthz": api },
  },
});
