// The server as its own process, started as main starts it (`node --import tsx server/src/main.ts`):
// for tests that kill it (SIGKILL), limit its descriptors (`ulimit -n`) or check what the CLI prints.
// Tests that need none of that use bootServer (harness/server.ts) in-process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const MAIN = join(ROOT, 'server/src/main.ts');

/** this process's environment without FREEQ_* (the child is configured by its arguments only) */
export function cleanEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FREEQ_') && v !== undefined) out[k] = v;
  return out;
}

export interface ChildServerOptions {
  /** arguments after main.ts, after the defaults (listen and web on 127.0.0.1:0, --data-dir, --log-level info) */
  args?: string[];
  /** Node flags before `--import tsx` (e.g. --stack-trace-limit=0) */
  nodeArgs?: string[];
  /**
   * run under `ulimit -n N`. Such a child runs with tsx's disk cache off (TSX_DISABLE_CACHE): on
   * Node 22 tsx loads modules through synchronous hooks (module.registerHooks), and each source it
   * transforms without a cache hit is written to the cache with an asynchronous writeFile whose
   * descriptor stays open until the event loop turns, i.e. until the whole static import graph
   * has loaded. With a cold cache (a clean machine, or a new tsx or Node version) that is one open
   * descriptor per module, more than a low limit allows: the child died of EMFILE while loading.
   * Node 20 runs tsx's hooks on a loader thread, whose event loop closes each file as it goes.
   */
  ulimitN?: number;
  /**
   * false: no V8 coverage in the child. Node copies c8's NODE_V8_COVERAGE into every child's
   * environment even when the env passed leaves it out, so it is removed with `env -u`.
   */
  coverage?: boolean;
  /** the data directory (kept); default: a fresh one under the temp dir, removed by stop() */
  dataDir?: string;
}

export interface ChildServer {
  proc: ChildProcess;
  /** the ports from the "freeq listening" log line */
  ports: { irc: number; web: number };
  dataDir: string;
  /** everything the server has written to stdout and stderr so far */
  out: () => string;
  /** send `signal` (if still running) and wait for the exit; removes a data dir it created */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Start the server as its own process; resolves once it logs "freeq listening" with both ports. */
export async function startChildServer(opts: ChildServerOptions = {}): Promise<ChildServer> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'freeq-child-'));
  const argv = [...(opts.nodeArgs ?? []), '--import', 'tsx', MAIN, '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0',
    '--data-dir', dataDir, '--log-level', 'info', ...(opts.args ?? [])];
  const env = cleanEnv();
  if (opts.ulimitN !== undefined) env.TSX_DISABLE_CACHE = '1';
  let proc: ChildProcess;
  if (opts.ulimitN !== undefined || opts.coverage === false) {
    // exec all the way down: the child's pid is the server's
    const ulimit = opts.ulimitN !== undefined ? `ulimit -n ${opts.ulimitN} && ` : '';
    const unset = opts.coverage === false ? 'env -u NODE_V8_COVERAGE ' : '';
    const cmd = `${ulimit}exec ${unset}${quote(process.execPath)} ${argv.map(quote).join(' ')}`;
    proc = spawn('/bin/sh', ['-c', cmd], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  } else {
    proc = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  let out = '';
  proc.stdout!.on('data', (d) => { out += String(d); });
  proc.stderr!.on('data', (d) => { out += String(d); });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await exited;
    }
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const ports = await new Promise<{ irc: number; web: number }>((res, rej) => {
      const t = setTimeout(() => { done(); rej(new Error(`server did not start:\n${out}`)); }, 30_000);
      const check = (): void => {
        if (!/"msg":"freeq listening"/.test(out)) return;
        const i = /"irc":\{[^}]*"port":(\d+)/.exec(out);
        const w = /"web":\{[^}]*"port":(\d+)/.exec(out);
        if (i && w) { done(); res({ irc: Number(i[1]), web: Number(w[1]) }); }
      };
      const exited = (code: number | null): void => { done(); rej(new Error(`server exited (${code}):\n${out}`)); };
      const done = (): void => { clearTimeout(t); proc.stdout!.off('data', check); proc.off('exit', exited); };
      proc.stdout!.on('data', check);
      proc.once('exit', exited);
    });
    return { proc, ports, dataDir, out: () => out, stop };
  } catch (e) {
    await stop('SIGKILL');
    throw e;
  }
}

/** Run main to completion with `args` (FREEQ_* removed, FREEQ_LOG_LEVEL=silent), e.g. a refused start or `keys`. */
export function runMain(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args],
    { cwd: ROOT, env: { ...cleanEnv(), FREEQ_LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
