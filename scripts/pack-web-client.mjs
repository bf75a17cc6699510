#!/usr/bin/env node
// #16: `npm pack` / `npm publish` of the server package (server/package.json prepack and
// postpack, run in server/): the web client built by `npm run build` (web/dist) is copied into
// the package as web-client/, where http/routes/web-client.ts looks first, so an installed
// freeq-server serves / without the rest of this repository. `--clean` removes the copy again.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const pkg = process.cwd(); // npm runs lifecycle scripts in the package's directory
const dest = resolve(pkg, 'web-client');
rmSync(dest, { recursive: true, force: true });
if (!process.argv.includes('--clean')) {
  const src = resolve(pkg, '../web/dist');
  if (!existsSync(resolve(src, 'index.html'))) {
    console.error(`pack-web-client: no web client at ${src} (run \`npm run build\` in the repository root first)`);
    process.exit(1);
  }
  cpSync(src, dest, { recursive: true });
}
