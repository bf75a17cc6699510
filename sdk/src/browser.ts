/**
 * @freeq/sdk for browsers (`@freeq/sdk/browser`, #15): the same client over the platform's
 * WebSocket (ws:// and wss://). Nothing here imports a Node built-in or `ws` (lint checks it), so
 * a bundler needs no polyfills.
 */
export * from './common.js';
export { FreeqClient, type BrowserClientOptions } from './browser-client.js';
