import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The renderer builds into dist/renderer, which `pakit serve` (and later the Electron shell) serves.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [svelte()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    // CSP allows scripts and styles from our own origin only: no inline code in the built page.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
