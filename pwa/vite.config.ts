import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The API server (`fieldcrm run`, default 127.0.0.1:8000) is proxied in dev so the app
// always talks to a same-origin /api/, as it does behind nginx in production.
const apiTarget = process.env.FIELDCRM_API_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [preact()],
  server: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
    },
  },
  preview: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
    },
  },
  build: {
    // Output: pwa/dist (the default). Hashed files go to dist/assets/ (cached immutable by nginx).
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: true,
  },
});
