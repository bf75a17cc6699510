import { readFileSync } from 'node:fs';
import type { Config } from './config/schema.js';

/** a bound address (the fields of a listener's address this needs) */
export interface Bound { address: string; port: number }

/**
 * What a person needs to reach the server (#16): the start banner (main.ts, on a terminal) and the
 * default MOTD (no motd-file) say it. Addresses are the bound ones (port 0 in the config becomes
 * the real port); a wildcard bind (0.0.0.0, ::) is shown with the server name.
 */
export interface ConnectUrls {
  irc: string;
  tls?: string;
  /** the HTTP port (API, WebSocket) */
  web: string;
  ws: string;
  /** the web client, when one is served at / */
  webClient?: string;
}

function hostOf(a: Bound, config: Config): string {
  const h = a.address === '0.0.0.0' || a.address === '::' ? config.serverName : a.address;
  return h.includes(':') ? `[${h}]` : h;
}

export function connectUrls(config: Config, bound: { irc: Bound; tls?: Bound; web: Bound }, webClient: boolean): ConnectUrls {
  const webTls = config.webTls && config.tlsCert !== undefined;
  const pub = config.publicUrl?.replace(/\/+$/, '');
  const web = pub ?? `${webTls ? 'https' : 'http'}://${hostOf(bound.web, config)}:${bound.web.port}`;
  return {
    irc: `irc://${hostOf(bound.irc, config)}:${bound.irc.port}`,
    ...(bound.tls ? { tls: `ircs://${hostOf(bound.tls, config)}:${bound.tls.port}` } : {}),
    web: `${web}/`,
    ws: `${web.replace(/^http/, 'ws')}/irc`,
    ...(webClient ? { webClient: `${web}/` } : {}),
  };
}

/** The lines main.ts prints when a person started the server at a terminal. */
export function banner(version: string, config: Config, urls: ConnectUrls, logFile?: string): string {
  const row = (label: string, value: string) => `  ${label.padEnd(12)}${value}`;
  return [
    '',
    `  ${version}: ${config.serverName} on the ${config.networkName} network`,
    '',
    row('IRC', urls.irc),
    ...(urls.tls ? [row('IRC over TLS', urls.tls)] : []),
    ...(urls.webClient ? [row('Web client', urls.webClient)] : []),
    row('WebSocket', urls.ws),
    row('HTTP API', `${urls.web}api/v1/`),
    '',
    `  ${logFile !== undefined ? `Logs: ${logFile}. ` : ''}Ctrl-C stops the server; SIGHUP (or REHASH) reloads the configuration.`,
    '',
    '',
  ].join('\n');
}

/**
 * The MOTD when no motd-file is set (#16; an operator who wants 422 points motd-file at an empty
 * file): what this server is, how to log in with Bluesky, where the web client is.
 */
export function defaultMotd(config: Config, urls: ConnectUrls): string[] {
  const mechs = config.saslMechanisms;
  const lines = [
    `Welcome to ${config.serverName}, a freeq server on the ${config.networkName} network.`,
    'freeq is IRC with your Bluesky (AT Protocol) identity: log in, and your nick and your',
    'channels are yours, on every client.',
    '',
  ];
  if (urls.webClient) {
    lines.push(`Web client: ${urls.webClient}`, '  type your Bluesky handle and press "Log in with Bluesky" (or join as a guest).', '');
  }
  if (mechs.length === 0) {
    lines.push('This server does not offer logins: everyone is a guest.');
  } else {
    lines.push('From an IRC client: enable SASL and log in before registering.');
    if (mechs.includes('PLAIN')) lines.push('  SASL PLAIN: your Bluesky handle (or DID) and an app password', '  (bsky.app: Settings, Privacy and security, App passwords).');
    if (mechs.includes('ATPROTO-CHALLENGE')) lines.push('  SASL ATPROTO-CHALLENGE: for clients that sign in with your identity directly.');
    lines.push(config.requireSasl ? 'Guests are not admitted: log in to connect.' : 'Without a login you are a guest (freeq/guest/...).');
  }
  lines.push('', 'HELP lists the commands. This is the default message of the day: the', 'operator sets their own with motd-file.');
  return lines;
}

/**
 * The lines of a motd-file; undefined when it cannot be read or is empty (clients then get 422).
 * Read at start and on REHASH / SIGHUP, never per connection (server.ts, rehash.ts).
 */
export function readMotdFile(file: string): string[] | undefined {
  try {
    const lines = readFileSync(file, 'utf8').replace(/\r/g, '').split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.length > 0 ? lines : undefined;
  } catch {
    return undefined;
  }
}
