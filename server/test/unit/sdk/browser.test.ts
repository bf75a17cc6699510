import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

// The SDK in a browser (#15): its browser entry bundles for the browser platform with no Node
// built-in and no `ws` (a bundler would need polyfills otherwise), and stays small. Its client
// runs the SDK's integration scenarios in headless Chromium: test/browser/sdk-browser.test.ts.

test('sdk/src/browser.ts bundles for browsers: nothing from Node, and small', async () => {
  const r = await build({
    entryPoints: ['sdk/src/browser.ts'], bundle: true, platform: 'browser', format: 'esm', write: false, minify: true,
    conditions: ['source'], logLevel: 'silent', metafile: true,
  });
  const js = r.outputFiles[0]!.text;
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(!inputs.some((f) => f.startsWith('node:') || /node_modules\/ws\//.test(f)), inputs.join('\n'));
  assert.ok(inputs.some((f) => f.startsWith('protocol/src/')), 'the shared protocol package is in');
  // the web client's budget is 150 kB gzipped for the whole page (#15); the SDK takes a fraction
  const gz = gzipSync(js).length;
  assert.ok(gz < 60_000, `the browser SDK is ${gz} bytes gzipped`);
});
