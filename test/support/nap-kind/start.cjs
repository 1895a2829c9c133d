// Starts the service with the test-only nap kind, from TypeScript sources. SWC compiles each .ts
// file as it is required, with decorator metadata (Nest's injection reads it; tsx's esbuild
// does not emit it). Worker threads get tsx's loader from the pool itself (they use no decorators).
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    module: { type: 'commonjs' },
    jsc: { target: 'es2022', parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true } },
  });
  module._compile(code, filename);
};
require('./main.ts');
