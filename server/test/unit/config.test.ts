import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { ConfigError, configToToml, describeConfig, loadConfig } from '../../src/config/load.js';
import { OPTIONS, camel, envName } from '../../src/config/options.js';
import { formatBytes, formatDuration, parseAddr, parseBytes, parseDuration } from '../../src/config/units.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const MAIN = join(ROOT, 'server/src/main.ts');

/** Run the real CLI (tsx, same as `npm start` minus the build) with a clean FREEQ_ environment. */
function cli(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FREEQ_')));
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function problemsOf(fn: () => unknown): string[] {
  try { fn(); } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('config: units', () => {
  test('durations', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2d'), 172_800_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('45'), 45_000, 'a bare number is seconds');
    assert.equal(parseDuration(30), 30_000, 'a TOML number is seconds');
    for (const bad of ['', 'abc', '10 minutes', '-5s', '1e3', '5y', null, true, -1]) assert.equal(parseDuration(bad), undefined, JSON.stringify(bad));
    for (const ms of [250, 1000, 90_000, 600_000, 3_600_000, 150_000]) assert.equal(parseDuration(formatDuration(ms)), ms);
  });

  test('byte sizes (k/M/G are powers of 1024)', () => {
    assert.equal(parseBytes('8704'), 8704);
    assert.equal(parseBytes(8704), 8704);
    assert.equal(parseBytes('200k'), 204_800);
    assert.equal(parseBytes('200K'), 204_800);
    assert.equal(parseBytes('200KiB'), 204_800);
    assert.equal(parseBytes('1M'), 1_048_576);
    assert.equal(parseBytes('1mb'), 1_048_576);
    assert.equal(parseBytes('2G'), 2 * 1024 ** 3);
    for (const bad of ['', 'k', '1.5M', '-1', '12x', '200i', 1.5, -3, null]) assert.equal(parseBytes(bad), undefined, JSON.stringify(bad));
    for (const n of [1, 8704, 204_800, 1_048_576]) assert.equal(parseBytes(formatBytes(n)), n);
  });

  test('addresses', () => {
    assert.deepEqual(parseAddr('127.0.0.1:6667'), { host: '127.0.0.1', port: 6667 });
    assert.deepEqual(parseAddr('[::1]:6697'), { host: '::1', port: 6697 });
    assert.deepEqual(parseAddr(':8080'), { host: '0.0.0.0', port: 8080 });
    for (const bad of ['localhost', '1.2.3.4:70000', '::1:6667', '', 6667]) assert.equal(parseAddr(bad), undefined, JSON.stringify(bad));
  });
});

describe('config: loadConfig', () => {
  test('embedded defaults match the option table', () => {
    const c = loadConfig({ env: {} });
    assert.deepEqual(c.listenAddr, { host: '127.0.0.1', port: 6667 });
    assert.deepEqual(c.webAddr, { host: '127.0.0.1', port: 8080 });
    assert.equal(c.readq, 8704);
    assert.equal(c.sendq, 200 * 1024);
    assert.equal(c.pingInterval, 90_000);
    assert.equal(c.pingTimeout, 150_000);
    assert.equal(c.registrationTimeout, 60_000);
    assert.equal(c.nickLen, 64);
    assert.equal(c.tlsCert, undefined);
    assert.deepEqual(c.opers, []);
    assert.ok(Object.isFrozen(c));
    for (const o of OPTIONS) {
      const v = (c as unknown as Record<string, unknown>)[camel(o.name)];
      assert.equal(v === undefined, o.default === undefined, `${o.name}: set iff it has a default`);
    }
  });

  test('precedence: defaults < file < env < CLI', () => {
    const fileValues = { 'nick-len': 30, 'topic-len': 300, 'kick-len': 200, 'server-name': 'file.example' };
    const env = { FREEQ_TOPIC_LEN: '250', FREEQ_KICK_LEN: '150' };
    const cli = { 'kick-len': '100' };
    const c = loadConfig({ fileValues, env, cli });
    assert.equal(c.awayLen, 390, 'default');
    assert.equal(c.nickLen, 30, 'file over default');
    assert.equal(c.serverName, 'file.example');
    assert.equal(c.topicLen, 250, 'env over file');
    assert.equal(c.kickLen, 100, 'CLI over env');
  });

  test('a TOML file is read from a path; [[oper]] blocks are validated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'freeq-cfg-'));
    try {
      const f = join(dir, 'freeq.toml');
      writeFileSync(f, [
        'server-name = "irc.example.org"',
        'listen-addr = "0.0.0.0:6667"',
        'ping-interval = "2m"',
        'sendq = "1M"',
        'ws-allowed-origins = ["https://chat.example.org"]',
        '[[oper]]',
        'name = "alice"',
        'password = "correct horse battery"',
        'class = "admin"',
        '[[oper]]',
        'name = "bob"',
        'password = "another long one"',
        'class = "moderator"',
      ].join('\n'));
      const c = loadConfig({ file: f, env: {} });
      assert.equal(c.serverName, 'irc.example.org');
      assert.deepEqual(c.listenAddr, { host: '0.0.0.0', port: 6667 });
      assert.equal(c.pingInterval, 120_000);
      assert.equal(c.sendq, 1_048_576);
      assert.deepEqual(c.wsAllowedOrigins, ['https://chat.example.org']);
      assert.deepEqual(c.opers.map((o) => [o.name, o.class]), [['alice', 'admin'], ['bob', 'moderator']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a TOML syntax error names the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'freeq-cfg-'));
    try {
      const f = join(dir, 'bad.toml');
      writeFileSync(f, 'server-name = \n');
      const p = problemsOf(() => loadConfig({ file: f, env: {} }));
      assert.equal(p.length, 1);
      assert.ok(p[0]!.startsWith(`config file ${f}:`), p[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every problem is reported at once, each naming its source', () => {
    const p = problemsOf(() => loadConfig({
      fileValues: { 'nick-lenn': 9, 'topic-len': 'long', oper: [{ name: 'x y', password: 'short' }] },
      env: { FREEQ_NOPE: '1', FREEQ_PING_INTERVAL: 'soon' },
      cli: { readq: '1', 'listen-addr': 'nowhere', 'log-level': 'loud' },
    }));
    const expected = [
      'config file: unknown key "nick-lenn"',
      'config file key "topic-len": expected an integer, got "long"',
      'config file oper[0].name: must not contain spaces',
      'config file oper[0].password: must be at least 8 characters',
      'environment: unknown variable FREEQ_NOPE',
      'environment FREEQ_PING_INTERVAL: expected a duration like 90s, 10m or 1h, got "soon"',
      '--readq: must be >= 4608 bytes',
      '--listen-addr: expected host:port, got "nowhere"',
    ];
    for (const e of expected) assert.ok(p.includes(e), `missing problem ${JSON.stringify(e)} in:\n${p.join('\n')}`);
    assert.ok(p.some((x) => x.startsWith('log-level: must be one of')), p.join('\n'));
    assert.equal(p.length, expected.length + 1, p.join('\n'));
    // the message lists them too
    const err = (() => { try { loadConfig({ env: { FREEQ_A: '1', FREEQ_B: '2' } }); } catch (e) { return e as Error; } })();
    assert.match(err!.message, /FREEQ_A[\s\S]*FREEQ_B/);
  });

  test('range checks on integers and sizes', () => {
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { 'nick-len': '65' } })), ['--nick-len: must be <= 64']);
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { 'nick-len': '0' } })), ['--nick-len: must be >= 1']);
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { 'nick-len': '1.5' } })), ['--nick-len: expected an integer, got "1.5"']);
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { readq: '65537' } })), ['--readq: must be <= 65536 bytes']);
    assert.equal(loadConfig({ env: {}, cli: { readq: '64k' } }).readq, 65536);
  });

  test('booleans, lists and empty environment values', () => {
    const c = loadConfig({ env: { FREEQ_WS_ALLOWED_ORIGINS: 'https://a.example, https://b.example', FREEQ_NICK_LEN: '' } });
    assert.deepEqual(c.wsAllowedOrigins, ['https://a.example', 'https://b.example']);
    assert.equal(c.nickLen, 64, 'an empty variable counts as unset');
  });

  test('tls-cert without tls-key (and vice versa) is rejected; unreadable files too', () => {
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { 'tls-cert': '/etc/hostname' } })), ['tls-cert and tls-key must be given together']);
    assert.deepEqual(problemsOf(() => loadConfig({ env: { FREEQ_TLS_KEY: '/etc/hostname' } })), ['tls-cert and tls-key must be given together']);
    const p = problemsOf(() => loadConfig({ env: {}, cli: { 'tls-cert': '/nonexistent/cert.pem', 'tls-key': '/nonexistent/key.pem' } }));
    assert.deepEqual(p, ['tls-cert: cannot read /nonexistent/cert.pem (ENOENT)', 'tls-key: cannot read /nonexistent/key.pem (ENOENT)']);
  });

  test('cross-field and semantic checks', () => {
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { 'ping-interval': '2m', 'ping-timeout': '1m' } })), ['ping-timeout must be longer than ping-interval']);
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { 'registration-timeout': '0s' } })), ['registration-timeout: must be longer than 0']);
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { 'server-name': 'bad name' } })), ['server-name: letters, digits, dots and dashes only']);
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { 'oper-password': 'short' } })), ['oper-password: must be at least 8 characters']);
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, fileValues: { oper: [{ name: 'a', password: '12345678' }, { name: 'a', password: '87654321' }] } })), ['config file oper: duplicate name "a"']);
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, fileValues: { oper: { name: 'a' } } })), ['config file oper: expected [[oper]] tables']);
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { bogus: 'x' } })), ['command line: unknown option --bogus']);
  });

  test('describeConfig and configToToml redact every secret, and the TOML loads back', () => {
    const c = loadConfig({
      env: { FREEQ_SERVER_PASSWORD: 'server-secret-1' },
      cli: { 'oper-password': 'oper-secret-22', sendq: '1M', 'ping-interval': '45s', 'ping-timeout': '100s', 'listen-addr': '[::1]:6667' },
      fileValues: { oper: [{ name: 'alice', password: 'alice-secret-333', class: 'moderator' }] },
    });
    const described = JSON.stringify(describeConfig(c));
    const toml = configToToml(c);
    for (const secret of ['server-secret-1', 'oper-secret-22', 'alice-secret-333']) {
      assert.ok(!described.includes(secret), `describeConfig leaks ${secret}`);
      assert.ok(!toml.includes(secret), `configToToml leaks ${secret}`);
    }
    assert.ok(toml.includes('server-password = "<redacted>"'));
    assert.ok(toml.includes('# tls-cert is unset'));
    const parsed = parseToml(toml) as Record<string, unknown>;
    assert.equal(parsed.sendq, '1M');
    assert.equal(parsed['ping-interval'], '45s');
    assert.equal(parsed['listen-addr'], '[::1]:6667');
    // with the secrets put back, the printed file is the same configuration
    parsed['server-password'] = 'server-secret-1';
    parsed['oper-password'] = 'oper-secret-22';
    (parsed.oper as Array<Record<string, unknown>>)[0]!.password = 'alice-secret-333';
    assert.deepEqual(loadConfig({ env: {}, fileValues: parsed }), c);
  });
});

describe('config: the freeq-server command', () => {
  let help: ReturnType<typeof cli>;
  before(() => { help = cli(['--help']); });

  test('--help lists every option with its default and environment variable', () => {
    assert.equal(help.code, 0, help.stderr);
    const text = help.stdout.replace(/\s+/g, ' ');
    for (const o of OPTIONS) {
      assert.ok(text.includes(`--${o.name} `), `--help lacks --${o.name}`);
      assert.ok(text.includes(envName(o)), `--help lacks ${envName(o)}`);
      const d = o.default === undefined ? 'unset'
        : Array.isArray(o.default) ? (o.default.length ? o.default.join(',') : 'empty')
          : o.default === '' ? 'empty' : String(o.default);
      // the default is in this option's own entry (entries start on a line with `  --`)
      const entry = help.stdout.split(/\n(?= {2}-)/).find((e) => e.trimStart().startsWith(`--${o.name} `));
      const section = (entry ?? '').replace(/\s+/g, ' ');
      assert.ok(section.includes(`(default: ${d};`), `--${o.name}: default ${d} not shown in ${JSON.stringify(section)}`);
    }
    assert.ok(text.includes('--config'));
    assert.ok(text.includes('default < file < env < CLI'));
  });

  test('config print shows the effective configuration with secrets redacted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'freeq-cfg-'));
    try {
      const f = join(dir, 'freeq.toml');
      writeFileSync(f, 'nick-len = 20\ntopic-len = 100\n[[oper]]\nname = "root"\npassword = "file-oper-secret"\n');
      const r = cli(['--config', f, 'config', 'print', '--topic-len', '200'], { FREEQ_OPER_PASSWORD: 'env-oper-secret', FREEQ_SERVER_PASSWORD: 'env-server-secret' });
      assert.equal(r.code, 0, r.stderr);
      const printed = parseToml(r.stdout) as Record<string, unknown>;
      assert.equal(printed['nick-len'], 20, 'from the file');
      assert.equal(printed['topic-len'], 200, 'CLI after the subcommand still wins');
      assert.equal(printed['oper-password'], '<redacted>');
      assert.equal(printed['server-password'], '<redacted>');
      assert.deepEqual((printed.oper as object[]).map((x) => ({ ...x })), [{ name: 'root', password: '<redacted>', class: 'admin' }]);
      for (const s of ['file-oper-secret', 'env-oper-secret', 'env-server-secret']) assert.ok(!r.stdout.includes(s), `leaks ${s}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an invalid value exits with code 2 and a clear message, before binding anything', () => {
    const r = cli(['--nick-len', 'abc', '--ping-interval', 'later'], { FREEQ_TYPO: 'x' });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^freeq-server: invalid configuration:\n/);
    assert.ok(r.stderr.includes('--nick-len: expected an integer, got "abc"'), r.stderr);
    assert.ok(r.stderr.includes('--ping-interval: expected a duration like 90s, 10m or 1h, got "later"'), r.stderr);
    assert.ok(r.stderr.includes('environment: unknown variable FREEQ_TYPO'), r.stderr);
  });

  test('cloak templates and history-cutoff are configuration errors: config print refuses them too (exit 2)', () => {
    assert.deepEqual(problemsOf(() => loadConfig({ env: {}, cli: { 'guest-cloak': 'freeq/guest', 'did-cloak': '{hash}!x', 'history-cutoff': 'sometimes' } })), [
      'history-cutoff: must be none, restricted, always (got "sometimes")',
      'guest-cloak "freeq/guest": must contain {hash}',
      'did-cloak "{hash}!x": must expand to a host part of letters, digits, ".", "/" and "-" that starts with a letter or digit, at most 63 characters (with a 16-character {hash} and a method of up to 16: "xxxxxxxxxxxxxxxx!x")',
    ]);
    assert.equal(loadConfig({ env: {}, cli: { 'guest-cloak': '{hash}.guest.example', 'history-cutoff': 'always' } }).historyCutoff, 'always');
    const r = cli(['config', 'print', '--history-cutoff', 'sometimes', '--guest-cloak', 'freeq/guest']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'freeq-server: invalid configuration:\n  - history-cutoff: must be none, restricted, always (got "sometimes")\n  - guest-cloak "freeq/guest": must contain {hash}\n');
  });

  test('docs/operator-guide.md documents every option', () => {
    const guide = readFileSync(join(ROOT, 'docs/operator-guide.md'), 'utf8');
    for (const o of OPTIONS) assert.ok(guide.includes(`\`${o.name}\``), `operator guide lacks \`${o.name}\``);
  });

  test('an unknown flag exits with code 2 and points at --help', () => {
    const r = cli(['--nick-lenn', '5']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option '--nick-lenn'/);
    assert.match(r.stderr, /--help/);
  });
});
