import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread whose module sits next to the caller: `name` without extension, `from` the
 * caller's `import.meta.url`. The server runs dist/ (`name.js`). The tests run the TypeScript
 * sources under tsx, whose `--import` hooks Node 20 does not carry into worker threads; there the
 * worker first registers tsx itself and then imports `name.ts`, so the tests run the same thread
 * code as production instead of silently taking a fallback.
 */
export function startWorker(name: string, from: string, options: WorkerOptions = {}): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, from), options);
  const entry = new URL(`./${name}.ts`, from).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
