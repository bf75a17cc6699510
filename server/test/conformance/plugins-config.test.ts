import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { buildProgram, type CliResult } from '../../src/cli.js';
import { ConfigError, configToToml, loadConfig } from '../../src/config/load.js';
import { bootServer } from '../harness/server.js';

// Enabling plugins: --plugin name:key=value,..., FREEQ_PLUGIN, [[plugin]] tables, plugin-dir.

function problemsOf(fn: () => unknown): string[] {
  try { fn(); } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

function parseArgs(argv: string[]): CliResult {
  let result: CliResult | undefined;
  buildProgram((r) => { result = r; }).parse(argv, { from: 'user' });
  return result!;
}

describe('plugins: configuration', () => {
  test('--plugin is repeatable; name:key=value,key2=value2 with |-separated lists', () => {
    const r = parseArgs(['--plugin', 'word-filter:words=foo|bar,action=suppress', '--plugin', 'greeter']);
    const c = loadConfig({ env: {}, cli: r.values });
    assert.deepEqual(c.plugin, [
      { name: 'word-filter', options: { words: 'foo|bar', action: 'suppress' } },
      { name: 'greeter', options: {} },
    ]);
  });

  test('FREEQ_PLUGIN takes ;-separated specs', () => {
    const c = loadConfig({ env: { FREEQ_PLUGIN: 'greeter:channels=#a|#b;word-filter:words=x' }, cli: {} });
    assert.deepEqual(c.plugin.map((p) => p.name), ['greeter', 'word-filter']);
    assert.equal(c.plugin[0]!.options.channels, '#a|#b');
  });

  test('TOML [[plugin]] tables with [plugin.options] (arrays become | lists); config print loads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'freeq-plug-'));
    try {
      const f = join(dir, 'freeq.toml');
      writeFileSync(f, [
        '[[plugin]]', 'name = "greeter"', '[plugin.options]', 'message = "Hi, {nick}: see the topic"',
        '[[plugin]]', 'name = "word-filter"', '[plugin.options]', 'words = ["foo", "bar"]', 'action = "mask"', '',
      ].join('\n'));
      const c = loadConfig({ file: f, env: {} });
      assert.deepEqual(c.plugin, [
        { name: 'greeter', options: { message: 'Hi, {nick}: see the topic' } },
        { name: 'word-filter', options: { words: 'foo|bar', action: 'mask' } },
      ]);
      const again = loadConfig({ env: {}, fileValues: parseToml(configToToml(c)) });
      assert.deepEqual(again.plugin, c.plugin);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unknown plugins and bad options are configuration errors, reported with the others', () => {
    const problems = problemsOf(() => loadConfig({ env: {}, cli: {
      plugin: ['nope:x=1', 'word-filter:action=bogus', 'greeter:colour=red', 'greeter:message'],
      'nick-len': '0',
    } }));
    const text = problems.join('\n');
    assert.match(text, /--plugin\[0\]: unknown plugin "nope" \(available: .*greeter.*word-filter/);
    assert.match(text, /--plugin\[1\]: plugin word-filter needs option "words"/);
    assert.match(text, /--plugin\[2\]: plugin greeter has no option "colour"/);
    assert.match(text, /--plugin\[3\]: "greeter:message": "message" is not key=value/);
    assert.match(text, /--nick-len: must be >= 1/);
    assert.match(problemsOf(() => loadConfig({ env: {}, cli: { plugin: ['word-filter:words=a,action=drop'] } })).join('\n'), /action: must be mask or suppress/);
    assert.match(problemsOf(() => loadConfig({ env: {}, cli: { plugin: ['greeter', 'greeter:message=x'] } })).join('\n'), /plugin greeter: enabled twice/);
    assert.match(problemsOf(() => loadConfig({ env: {}, fileValues: { plugin: [{ name: 'greeter', message: 'x' }] } })).join('\n'), /unknown key "message" \(plugin options go in \[plugin.options\]\)/);
    assert.match(problemsOf(() => loadConfig({ env: {}, cli: { 'plugin-dir': '/nonexistent/freeq-plugins' } })).join('\n'), /plugin-dir: cannot read/);
  });

  test('the server command refuses an unknown plugin with exit code 2', async () => {
    const { spawnSync } = await import('node:child_process');
    const root = join(import.meta.dirname, '../../..');
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FREEQ_')));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/main.ts', 'config', 'print', '--plugin', 'no-such-plugin'], { cwd: root, env: base, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /unknown plugin "no-such-plugin"/);
  });
});

describe('plugins: enabled from TOML and plugin-dir, end to end', () => {
  test('[[plugin]] from a config file greets; a plugin-dir file filters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'freeq-plugdir-'));
    const pdir = join(dir, 'plugins');
    mkdirSync(pdir);
    writeFileSync(join(pdir, 'filter.toml'), 'name = "word-filter"\nwords = ["rats"]\n');
    writeFileSync(join(pdir, 'README.txt'), 'not a plugin');
    const fileValues = parseToml('[[plugin]]\nname = "greeter"\n[plugin.options]\nmessage = "Hi from TOML, {nick}"\n') as Record<string, unknown>;
    const srv = await bootServer({ 'plugin-dir': pdir }, undefined, fileValues);
    try {
      assert.deepEqual(srv.config.pluginsFromDir, [{ name: 'word-filter', options: { words: 'rats' } }]);
      const a = await srv.client('toma');
      const b = await srv.client('tomb');
      a.send('JOIN #x');
      await a.expect(' 366 ');
      assert.equal(await a.expect('NOTICE'), ':irc.test NOTICE toma :Hi from TOML, toma');
      b.send('JOIN #x');
      await b.expect(' 366 ');
      a.send('PRIVMSG #x :oh rats');
      assert.match(await b.expect('PRIVMSG'), / PRIVMSG #x :oh \*\*\*\*$/);
    } finally {
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
