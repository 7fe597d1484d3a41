import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

// Three builds: main (the app, the engine process entry and the `studio` CLI), preload (CommonJS: sandboxed preloads cannot
// be ES modules), renderer (Vue).
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          engine: resolve(__dirname, 'src/main/engine/process.ts'),
          cli: resolve(__dirname, 'src/main/cli/index.ts'),
          // The patch sampler decodes and degrades images on a worker thread (see data/worker-sampler.ts).
          'data-worker': resolve(__dirname, 'src/main/engine/data/sampler-worker.ts'),
        },
        // Optional dependency: absent where its install failed; loaded at run time when present.
        external: ['@tensorflow/tfjs-node-gpu'],
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
    plugins: [vue()],
  },
});
