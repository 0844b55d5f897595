import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API serves dist/ at / (plutarc_api.dashboard). `npm run dev` proxies /v1 to a local API.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022" },
  server: { proxy: { "/v1": "http://127.0.0.1:8000" } },
});
