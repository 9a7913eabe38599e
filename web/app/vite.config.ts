import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The bundle is committed (web/dist) and embedded into the Rust binary, so the output must
// be deterministic: content-hashed names, no timestamps, no absolute paths.
export default defineConfig({
  plugins: [svelte()],
  base: '/',
  build: {
    outDir: process.env.CLICKCLACK_WEB_OUT || '../dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    assetsDir: 'assets',
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', ws: true },
    },
  },
});
