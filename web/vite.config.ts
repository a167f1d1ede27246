// Builds the console (console.html) and the member pages (claim.html, center.html) into dist/,
// which the quan binary embeds. `npm run dev` proxies the API to a running `quan serve`.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

const api = process.env.QUAN_API ?? "http://127.0.0.1:8080";

/** Writes `<file>.gz` beside every built file, so quan sends them compressed, made once. */
function gzipBeside(): Plugin {
  let outDir = "dist";
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : path.endsWith(".gz") ? [] : [path];
    });
  return {
    name: "quan-gzip-beside",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      for (const file of walk(outDir)) writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: 9 }));
    },
  };
}

/** In `npm run dev`, the paths quan serves its pages at: /console/*, /claim, /center. */
function pagesAsQuanServesThem(): Plugin {
  return {
    name: "quan-pages",
    apply: "serve",
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        const path = (req.url ?? "").split("?")[0];
        const query = (req.url ?? "").slice(path.length);
        if (path === "/console" || path.startsWith("/console/")) req.url = `/console.html${query}`;
        else if (path === "/claim") req.url = `/claim.html${query}`;
        else if (path === "/center") req.url = `/center.html${query}`;
        next();
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), gzipBeside(), pagesAsQuanServesThem()],
  build: {
    outDir: "dist",
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
