import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC instead of esbuild so that Nest's decorators get their design-time metadata.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    // One process runs every file in turn, its modules (Nest, BullMQ, the app) loaded once instead of
    // once per file (about 0.8 s each). A file must leave nothing behind: it closes what it starts and
    // restores its spies; src keeps no state in modules (state lives behind ports); process.env is
    // restored after each file.
    isolate: false,
    // Every response of the service is checked against its OpenAPI document (test/support/conformance/);
    // each file leaves process.env as it found it (test/support/file-env.ts).
    setupFiles: ['test/support/conformance/setup.ts', 'test/support/file-env.ts'],
  },
});
