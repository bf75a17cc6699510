/**
 * @freeq/sdk: a small, typed IRC client for freeq servers (Node 20+): TCP, TLS and WebSocket,
 * CAP 302, SASL PLAIN and ATPROTO-CHALLENGE (crypto, pds-session, pds-oauth, service-auth),
 * labeled requests, CHATHISTORY, reconnect with resume. Browsers: @freeq/sdk/browser.
 */
export * from './common.js';
export { FreeqClient, type FreeqClientOptions } from './node-client.js';
export { openTransport, type TransportOptions } from './transport.js';
