#!/usr/bin/env node
// The installed command. `npm ci` builds dist/ (root "prepare" script).
import('../dist/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    console.error('freeq-server: not built yet. Run `npm run build` in the repository root.');
    process.exit(1);
  }
  throw err;
});
