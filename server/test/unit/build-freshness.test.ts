import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// #16: `npm start` builds only what changed (scripts/build.mjs --if-stale): a content hash of
// each step's inputs (and of the steps it builds on) against the stamp of its last build.

interface Step { name: string; after?: string[]; inputs: string[]; output: string; cmd: string; args: string[]; buildInfo?: string }
interface BuildModule {
  ROOT: string;
  STEPS: Step[];
  staleSteps(root: string, steps?: Step[]): Step[];
  build(root: string, steps: Step[], names: string[], log?: (l: string) => void): boolean;
}
const SCRIPT = '../../../scripts/build.mjs';
const mod = await import(SCRIPT) as BuildModule;
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** a step that writes its output file (and counts its runs), or fails when `fail` exists */
function fakeStep(name: string, inputs: string[], after: string[] = []): Step {
  const code = `const fs=require('fs');if(fs.existsSync('fail-${name}'))process.exit(3);fs.mkdirSync('out',{recursive:true});fs.writeFileSync('out/${name}','built');fs.appendFileSync('runs','${name}\\n')`;
  return { name, after, inputs, output: `out/${name}`, cmd: process.execPath, args: ['-e', code] };
}

test('steps are rebuilt when their inputs, or the inputs of the steps they build on, change, or their output is gone', () => {
  const root = mkdtempSync(join(tmpdir(), 'freeq-build-'));
  try {
    for (const d of ['a/src', 'b/src', 'c/src']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'package-lock.json'), '{}');
    writeFileSync(join(root, 'a/src/x.ts'), 'a1');
    writeFileSync(join(root, 'b/src/y.ts'), 'b1');
    writeFileSync(join(root, 'c/src/z.ts'), 'c1');
    const steps = [fakeStep('a', ['a/src']), fakeStep('b', ['b/src'], ['a']), fakeStep('c', ['c/src'])];
    const stale = (): string[] => mod.staleSteps(root, steps).map((s) => s.name);
    const runs = (): string[] => (existsSync(join(root, 'runs')) ? readFileSync(join(root, 'runs'), 'utf8').trim().split('\n') : []);
    const quiet = (): void => {};

    assert.deepEqual(stale(), ['a', 'b', 'c'], 'never built');
    assert.equal(mod.build(root, steps, stale().map(String), quiet), true);
    assert.deepEqual(runs(), ['a', 'b', 'c']);
    assert.deepEqual(stale(), [], 'nothing changed');

    writeFileSync(join(root, 'b/src/y.ts'), 'b2');
    assert.deepEqual(stale(), ['b']);
    writeFileSync(join(root, 'a/src/new.ts'), 'a2');
    assert.deepEqual(stale(), ['a', 'b'], 'b builds on a');
    mod.build(root, steps, stale(), quiet);
    assert.deepEqual(runs(), ['a', 'b', 'c', 'a', 'b']);
    assert.deepEqual(stale(), []);

    // the same content written again (a touched file) is no change; a deleted input is
    writeFileSync(join(root, 'c/src/z.ts'), 'c1');
    assert.deepEqual(stale(), []);
    rmSync(join(root, 'a/src/new.ts'));
    assert.deepEqual(stale(), ['a', 'b']);
    mod.build(root, steps, stale(), quiet);

    rmSync(join(root, 'out/c'));
    assert.deepEqual(stale(), ['c'], 'output missing');
    mod.build(root, steps, ['c'], quiet);

    writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3}');
    assert.deepEqual(stale(), ['a', 'b', 'c'], 'dependencies changed');
    mod.build(root, steps, stale(), quiet);

    // a failing step is not stamped: it stays stale, and the steps after it are not run
    writeFileSync(join(root, 'a/src/x.ts'), 'a3');
    writeFileSync(join(root, 'fail-a'), '');
    const before = runs().length;
    const logged: string[] = [];
    assert.equal(mod.build(root, steps, stale(), (l) => logged.push(l)), false);
    assert.deepEqual(logged, ['build: a failed']);
    assert.equal(runs().length, before);
    assert.deepEqual(stale(), ['a', 'b']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the real build: one step per workspace, inputs that exist, and npm start building only stale steps', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { workspaces: string[]; scripts: Record<string, string> };
  assert.deepEqual(mod.STEPS.map((s) => s.name).sort(), [...pkg.workspaces].sort());
  for (const s of mod.STEPS) for (const i of s.inputs) assert.ok(existsSync(join(REPO, i)), `${s.name}: ${i}`);
  assert.equal(pkg.scripts.build, 'node scripts/build.mjs');
  assert.match(pkg.scripts.start!, /^node scripts\/build\.mjs --if-stale && node server\/bin\/freeq-server\.js$/);
  // the server's step builds what bin/freeq-server.js loads
  assert.equal(mod.STEPS.find((s) => s.name === 'server')!.output, 'server/dist/main.js');
  assert.match(readFileSync(join(REPO, 'server/bin/freeq-server.js'), 'utf8'), /import\('\.\.\/dist\/main\.js'\)/);
  const quickStart = readFileSync(join(REPO, 'README.md'), 'utf8').split('## Quick start')[1] ?? '';
  assert.equal(quickStart.match(/```sh\n([^\n]*)\n/)?.[1], 'npm ci && npm start', 'npm start stays the Quick start\'s first command');
});
