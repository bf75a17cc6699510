/**
 * Every option in one table: CLI flag, TOML key and environment variable are derived from the
 * name, so they can never drift apart. Precedence: default < file < env < CLI (config/load.ts).
 */
/**
 * How an option is parsed and what it becomes in `Config` (config/schema.ts OptionValue):
 * `duration` → ms, `bytes` → bytes, `int` → number, `addr` → {host, port}, `list` → string[]
 * (comma-separated), `plugins` → PluginSpec[] (repeatable `name:key=value,key2=value2`; CLI, env
 * `;`-separated, or TOML `[[plugin]]` tables).
 */
export type OptionType = 'string' | 'int' | 'bool' | 'duration' | 'bytes' | 'addr' | 'list' | 'plugins';

export interface OptionSpec {
  /** kebab-case: `--listen-addr`, TOML `listen-addr`, env `FREEQ_LISTEN_ADDR` */
  name: string;
  type: OptionType;
  /** undefined = unset (optional feature off): the Config field is then optional */
  default?: string | number | boolean | readonly string[];
  help: string;
  /** extra environment variable names honoured (e.g. OPER_DIDS from the product documents) */
  envAliases?: readonly string[];
  secret?: boolean;
  min?: number;
  max?: number;
  group: 'Listeners' | 'Server' | 'Storage' | 'Operators' | 'Identity' | 'Admission' | 'Flood' | 'HTTP API' | 'Limits' | 'Plugins' | 'Federation' | 'Logging';
}

/**
 * `as const`: config/schema.ts derives the `Config` type from this table (key, value type,
 * optional when there is no default), so keep it a literal.
 */
const OPTION_TABLE = [
  // Listeners
  { group: 'Listeners', name: 'listen-addr', type: 'addr', default: '127.0.0.1:6667', help: 'plain IRC (TCP) listen address, host:port' },
  { group: 'Listeners', name: 'tls-listen-addr', type: 'addr', default: '127.0.0.1:6697', help: 'IRC over TLS listen address (used only when --tls-cert and --tls-key are given)' },
  { group: 'Listeners', name: 'tls-cert', type: 'string', help: 'TLS certificate chain (PEM file)' },
  { group: 'Listeners', name: 'tls-key', type: 'string', help: 'TLS private key (PEM file)' },
  { group: 'Listeners', name: 'web-addr', type: 'addr', default: '127.0.0.1:8080', help: 'HTTP listen address: the web client at /, IRC over WebSocket at /irc and the HTTP API' },
  { group: 'Listeners', name: 'web-client-dir', type: 'string', help: 'directory of the web client served at / (default: the one built with this server, web/dist; an empty string serves none)' },
  { group: 'Listeners', name: 'web-tls', type: 'bool', default: false, help: 'serve web-addr over HTTPS with tls-cert/tls-key (WebSocket becomes wss://) and send HSTS' },
  // #12 finding 7: a PROXY header only where the operator put a proxy in front (and only from trusted-proxies)
  { group: 'Listeners', name: 'listen-proxy-protocol', type: 'bool', default: false, help: 'read a PROXY protocol v1/v2 header at the start of connections to listen-addr, from trusted-proxies addresses only; off: a PROXY line is an ordinary (unknown) IRC command' },
  { group: 'Listeners', name: 'tls-listen-proxy-protocol', type: 'bool', default: false, help: 'read a PROXY protocol v1/v2 header (before the TLS handshake) on tls-listen-addr, from trusted-proxies addresses only' },
  // transport/lean-tcp.ts
  { group: 'Listeners', name: 'lean-sockets', type: 'bool', default: true, help: 'plain TCP clients on the bare libuv handle instead of a net.Socket: ~2.5 kB less memory per connection (false: net.Socket, which TLS and WebSocket clients always use)' },
  { group: 'Listeners', name: 'ws-allowed-origins', type: 'list', default: [], help: 'WebSocket Origin allowlist (comma-separated); empty allows any origin. Requests without an Origin header (native clients) are always allowed' },

  // Server identity
  { group: 'Server', name: 'server-name', type: 'string', default: 'localhost', help: 'server name shown to clients (the source of server replies)' },
  { group: 'Server', name: 'network-name', type: 'string', default: 'freeq', help: 'network name advertised as NETWORK in RPL_ISUPPORT' },
  { group: 'Server', name: 'server-password', type: 'string', secret: true, help: 'connection password clients must send with PASS (unset: no password)' },
  { group: 'Server', name: 'motd-file', type: 'string', help: 'message of the day file (UTF-8 text), read at start and on REHASH / SIGHUP; unset: a built-in MOTD (what the server is, how to log in); missing or empty: 422 ERR_NOMOTD' },
  { group: 'Server', name: 'admin-location', type: 'string', default: 'freeq IRC server', help: 'ADMIN reply, first location line' },
  { group: 'Server', name: 'admin-location2', type: 'string', default: '', help: 'ADMIN reply, second location line' },
  { group: 'Server', name: 'admin-email', type: 'string', default: '', help: 'ADMIN reply, contact e-mail' },

  // Storage
  { group: 'Storage', name: 'data-dir', type: 'string', default: './data', help: 'data directory (database, key files)' },
  { group: 'Storage', name: 'db-path', type: 'string', help: 'SQLite database path (unset: <data-dir>/freeq.db)' },
  // message history (history/store.ts; hardening.md C7, H2); #12: history-max-bytes, the reply budget (history-reply-max-*),
  // history-cutoff (history/cutoff.ts HistoryCutoff, its values checked in load.ts as config/ may not import history/)
  { group: 'Storage', name: 'history-max-per-target', type: 'int', default: 10000, min: 1, max: 10000000, help: 'messages kept per channel and per private conversation; older ones are deleted as new ones arrive' },
  { group: 'Storage', name: 'history-max-age', type: 'duration', default: '90d', help: 'messages older than this are deleted (checked periodically) and never returned; 0 keeps them until history-max-per-target pushes them out' },
  { group: 'Storage', name: 'history-max-bytes', type: 'bytes', default: '1g', min: 16384, help: 'stored bytes of all message history together (rows as stored, without SQLite\'s index and page overhead); beyond, the oldest messages of any channel or conversation are deleted first (metrics freeq_history_bytes, freeq_history_evicted_total)' },
  { group: 'Storage', name: 'history-cutoff', type: 'string', default: 'restricted', help: 'what history a channel member sees from before they joined: none (everything), restricted (not what was said while the channel was +s, +p, +i or +k; the default), always (nothing). Applies to CHATHISTORY, replay on JOIN and the REST API; the founder and DID ops see everything' },
  { group: 'Storage', name: 'history-replay-on-join', type: 'int', default: 0, min: 0, max: 500, help: 'on JOIN, send the channel\'s last N messages in a chathistory batch to clients with batch and server-time that did not negotiate draft/chathistory (0: off)' },
  { group: 'Storage', name: 'history-reply-max-bytes', type: 'bytes', default: '256k', min: 16384, help: 'most bytes one CHATHISTORY reply (or all the history replays of one JOIN command) sends, every line counted (a multiline message counts all its lines); a reply that would be larger ends early with WARN CHATHISTORY TRUNCATED and the client pages for the rest; advertised as freeq.at/CHATHISTORYBYTES in RPL_ISUPPORT' },
  { group: 'Storage', name: 'history-reply-max-lines', type: 'int', default: 2000, min: 10, max: 100000, help: 'most lines one CHATHISTORY reply sends (see history-reply-max-bytes); advertised as freeq.at/CHATHISTORYLINES' },
  { group: 'Storage', name: 'history-query-limit', type: 'int', default: 500, min: 1, max: 10000, help: 'most messages one CHATHISTORY request returns (larger limits are clamped); advertised as CHATHISTORY in RPL_ISUPPORT' },
  // #16 draft/message-redaction (state/redact-ops.ts)
  { group: 'Storage', name: 'redact-window', type: 'duration', default: '15m', help: 'how long after sending a user may REDACT their own message (it is then deleted from history); 0: never (channel operators may still redact any message of their channel, server operators any)' },

  // Operators
  { group: 'Operators', name: 'oper-password', type: 'string', secret: true, help: 'password for OPER <any name> <password> (admin class); named operator blocks go in the config file as [[oper]]' },
  { group: 'Operators', name: 'oper-attempt-interval', type: 'duration', default: '10s', help: 'minimum time between two OPER attempts of one connection; an earlier attempt gets 263 (try again later) without its password being checked (hardening.md D2)' },
  // #12 finding 17: guessing from many connections, or from many addresses
  { group: 'Operators', name: 'oper-max-failures-per-ip', type: 'int', default: 5, min: 1, max: 100000, help: 'failed OPER attempts per IP (IPv6: /64) within oper-failure-window; beyond, every OPER from that IP gets 263 without its password being checked' },
  { group: 'Operators', name: 'oper-max-failures', type: 'int', default: 30, min: 1, max: 1000000, help: 'failed OPER attempts server-wide within oper-failure-window; beyond, every OPER gets 263 without its password being checked (operators in oper-dids still log in with SASL); limit-exempt addresses are neither refused by it nor counted in it' },
  { group: 'Operators', name: 'oper-failure-window', type: 'duration', default: '10m', help: 'sliding window of oper-max-failures-per-ip and oper-max-failures' },

  // #16 server notices (user mode +s, session/server-notices.ts): bounded per operator
  { group: 'Operators', name: 'server-notice-rate', type: 'int', default: 30, min: 1, max: 100000, help: 'server notices (user mode +s) one operator gets per server-notice-window; beyond, they are dropped and counted, and one summary notice says how many when the window ends (the log keeps every event)' },
  { group: 'Operators', name: 'server-notice-window', type: 'duration', default: '10s', help: 'window of server-notice-rate' },
  { group: 'Operators', name: 'oper-dids', type: 'list', default: [], envAliases: ['OPER_DIDS'], help: 'DIDs that become server operators (admin class) when they log in with SASL (comma-separated)' },

  // Identity: AT Protocol (Bluesky) login with SASL
  { group: 'Identity', name: 'sasl-mechanisms', type: 'list', default: ['ATPROTO-CHALLENGE', 'PLAIN'], help: 'SASL mechanisms offered: ATPROTO-CHALLENGE and/or PLAIN (PLAIN = Bluesky handle or DID + app password); empty disables SASL' },
  { group: 'Identity', name: 'atproto-methods', type: 'list', default: ['crypto', 'pds-session', 'pds-oauth', 'service-auth', 'web-token'], help: 'ATPROTO-CHALLENGE verification methods accepted: crypto, pds-session, pds-oauth, service-auth, web-token (the web client\'s login token after a Bluesky login)' },
  { group: 'Identity', name: 'challenge-timeout-secs', type: 'int', default: 60, min: 5, max: 600, help: 'seconds an ATPROTO-CHALLENGE challenge stays valid (both directions of clock skew)' },
  { group: 'Identity', name: 'plc-url', type: 'string', default: 'https://plc.directory', help: 'PLC directory used to resolve did:plc identities' },
  { group: 'Identity', name: 'handle-resolver-url', type: 'string', help: 'XRPC service used to resolve handles (com.atproto.identity.resolveHandle), e.g. https://public.api.bsky.app; unset: DNS TXT _atproto.<handle> then https://<handle>/.well-known/atproto-did. The DID document must list the handle either way' },
  { group: 'Identity', name: 'server-did', type: 'string', help: 'this server\'s DID: the audience service-auth tokens must name (default: did:web:<server-name>)' },
  { group: 'Identity', name: 'require-sasl', type: 'bool', default: false, help: 'refuse clients that have not logged in with SASL by the end of registration (no guests)' },
  { group: 'Identity', name: 'did-cache-ttl', type: 'duration', default: '1h', help: 'how long a resolved DID document is reused before it is fetched again' },
  { group: 'Identity', name: 'public-url', type: 'string', help: 'the address users open the web client at, e.g. https://chat.example.com (no path): Bluesky login then runs as a public OAuth client whose metadata is at <public-url>/oauth/client-metadata.json. Unset: a loopback OAuth client, which works only in a browser on this machine at http://127.0.0.1:<web-addr port>/' },
  { group: 'Identity', name: 'web-session-ttl', type: 'duration', default: '7d', help: 'how long a browser stays logged in after a Bluesky login in the web client (an HttpOnly cookie that can only fetch single-use IRC login tokens; logging out ends it); at least 1m' },
  { group: 'Identity', name: 'http-timeout', type: 'duration', default: '3s', help: 'timeout of every outbound HTTP request (PLC, did:web, PDS, handle resolution)' },
  { group: 'Identity', name: 'ssrf-allow-loopback', type: 'bool', default: false, help: 'allow outbound identity requests to loopback addresses (127.0.0.0/8, ::1) — for local test stacks only; private, link-local and other special ranges stay refused' },
  { group: 'Identity', name: 'sasl-max-bytes', type: 'int', default: 8192, min: 1024, max: 65536, help: 'largest decoded AUTHENTICATE response (bytes); larger gets 904' },
  // #12 finding 6: outbound identity lookups are shared out so one client cannot starve every login (identity/lookup-limits.ts)
  { group: 'Identity', name: 'identity-lookups-max', type: 'int', default: 64, min: 2, max: 10000, help: 'outbound identity requests (PLC, did:web, PDS, handle) in flight at once, server-wide; beyond: the login gets 904' },
  { group: 'Identity', name: 'identity-lookups-reserved', type: 'int', default: 16, min: 0, max: 10000, help: 'of identity-lookups-max, slots only for requests to plc-url / handle-resolver-url, refreshes of cached DID documents and a did:plc\'s PDS calls (never a host a did:web document names, so a flood of logins against dead hosts cannot take them); at most identity-lookups-max - 1' },
  { group: 'Identity', name: 'identity-lookups-per-host', type: 'int', default: 8, min: 1, max: 10000, help: 'identity requests in flight to one destination host:port (plc-url and handle-resolver-url exempt); beyond: 904' },
  { group: 'Identity', name: 'identity-lookups-per-ip', type: 'int', default: 4, min: 1, max: 10000, help: 'identity requests in flight for the logins of one IP (IPv6: per /64); beyond: 904' },
  { group: 'Identity', name: 'identity-lookups-per-connection', type: 'int', default: 1, min: 1, max: 100, help: 'identity requests in flight for the login of one connection; beyond: 904' },
  { group: 'Identity', name: 'identity-host-failure-ttl', type: 'duration', default: '60s', help: 'a host that let an identity request time out is not asked again for this long (its logins get 904 at once; plc-url and handle-resolver-url exempt); 0 disables' },
  // cloaks (state/cloak.ts, #12): {hash} = 80-bit keyed hash (cloak-key.secret) of the guest's IP (v4 /32, v6 /64) or of the whole DID
  { group: 'Identity', name: 'guest-cloak', type: 'string', default: 'freeq/guest/{hash}', help: 'host shown for guests: {hash} is a keyed hash of the address (IPv6: its /64), so each guest can be banned without showing the address; must contain {hash} and expand to letters, digits, . / - (at most 63), e.g. {hash}.guest.example' },
  { group: 'Identity', name: 'did-cloak', type: 'string', default: 'freeq/{method}/{hash}', help: 'host shown after a SASL login: {method} is the DID method (plc, web, key), {hash} a keyed hash of the whole DID; same rules as guest-cloak, e.g. {hash}.users.example' },

  // Admission (hardening.md A1–A3, A7, A8, I3): checked before the TLS handshake / WebSocket upgrade
  { group: 'Admission', name: 'max-connections-per-ip', type: 'int', default: 20, min: 1, max: 100000, help: 'concurrent connections per IP (IPv6: per /64), all transports together' },
  { group: 'Admission', name: 'connection-throttle', type: 'int', default: 32, min: 1, max: 100000, help: 'new connections per IP (IPv6: /64) within connection-throttle-window' },
  { group: 'Admission', name: 'connection-throttle-window', type: 'duration', default: '10m', help: 'window of connection-throttle' },
  { group: 'Admission', name: 'max-connections', type: 'int', default: 10000, min: 1, max: 1000000, help: 'connections server-wide' },
  { group: 'Admission', name: 'limit-exempt', type: 'list', default: [], help: 'IPs/CIDRs exempt from the per-IP connection limit and the throttle (comma-separated), and from the server-wide OPER failure limit (oper-max-failures)' },
  { group: 'Admission', name: 'throttle-exempt', type: 'list', default: ['127.0.0.0/8', '::1/128'], help: 'IPs/CIDRs exempt from the connection-rate throttle only (loopback by default, as Ergo)' },
  { group: 'Admission', name: 'trusted-proxies', type: 'list', default: [], help: 'IPs/CIDRs of your reverse proxies: their X-Forwarded-For (right-most untrusted hop) and, on listeners with *-proxy-protocol, their PROXY header are honoured; limits then apply to the real client address. Empty (default): trust no proxy' },
  // #12 finding 4: the HTTP port (API and WebSocket before the upgrade), checked at accept time
  { group: 'Admission', name: 'http-max-connections-per-ip', type: 'int', default: 10, min: 1, max: 100000, help: 'concurrent HTTP connections per IP (IPv6: /64) on web-addr; each also takes one of the IP\'s max-connections-per-ip slots (an upgraded WebSocket keeps only that one); connections from trusted-proxies are not counted per IP; beyond: HTTP 429 and close' },
  { group: 'Admission', name: 'http-max-connections', type: 'int', default: 1000, min: 1, max: 1000000, help: 'concurrent HTTP connections on web-addr server-wide (upgraded WebSockets count under max-connections instead); beyond: HTTP 503 and close' },
  { group: 'Admission', name: 'http-fd-reserve', type: 'int', default: 256, min: 0, max: 1000000, help: 'file descriptors kept for IRC: web-addr refuses new connections (HTTP 503) once the descriptors in use are within this many of the process limit (ulimit -n); 0: off' },
  { group: 'Admission', name: 'tls-handshake-timeout', type: 'duration', default: '10s', help: 'time a TLS client has to finish the handshake' },
  { group: 'Admission', name: 'lockdown', type: 'string', default: 'off', help: 'off, sasl-only (new connections must log in with SASL) or closed (only limit-exempt addresses); operators change it at run time with LOCKDOWN' },

  // Flood control (hardening.md C1–C3)
  { group: 'Flood', name: 'fakelag', type: 'bool', default: true, help: 'delay (never drop) commands beyond the burst: reading pauses instead of buffering' },
  { group: 'Flood', name: 'fakelag-burst', type: 'int', default: 5, min: 1, max: 1000, help: 'commands accepted at once before fakelag applies' },
  { group: 'Flood', name: 'fakelag-rate', type: 'int', default: 2, min: 1, max: 1000, help: 'commands per fakelag-window once throttled' },
  { group: 'Flood', name: 'fakelag-window', type: 'duration', default: '1s', help: 'fakelag window' },
  { group: 'Flood', name: 'fakelag-cooldown', type: 'duration', default: '2s', help: 'idle time after which the burst is available again' },
  { group: 'Flood', name: 'message-rate', type: 'int', default: 5, min: 1, max: 100000, help: 'PRIVMSG+NOTICE (and separately TAGMSG) per message-rate-window per client; beyond: 404 Flood protection / FAIL TAGMSG RATE_LIMITED' },
  { group: 'Flood', name: 'message-rate-window', type: 'duration', default: '2s', help: 'window of message-rate' },
  { group: 'Flood', name: 'nick-change-rate', type: 'int', default: 3, min: 1, max: 1000, help: 'NICK changes per minute after registration (438 beyond)' },
  { group: 'Flood', name: 'join-rate', type: 'int', default: 3, min: 1, max: 1000, help: 'JOINs of one channel per join-rate-window per client (operators exempt); beyond: 500 Too many join requests' },
  { group: 'Flood', name: 'join-rate-window', type: 'duration', default: '90s', help: 'window of join-rate' },
  { group: 'Flood', name: 'invite-rate', type: 'int', default: 4, min: 1, max: 1000, help: 'INVITEs per invite-rate-window per client (operators exempt); beyond: 263 Please wait a while and try again' },
  { group: 'Flood', name: 'invite-rate-window', type: 'duration', default: '60s', help: 'window of invite-rate' },
  { group: 'Flood', name: 'away-rate', type: 'int', default: 4, min: 1, max: 1000, help: 'AWAY changes per away-rate-window per client (operators exempt); beyond: 263 Please wait a while and try again' },
  { group: 'Flood', name: 'away-rate-window', type: 'duration', default: '120s', help: 'window of away-rate' },
  // KNOCK (#16): UnrealIRCd's 4 / 120 s per known user (hardening.md C3); per channel (ours) so clones cannot flood its operators
  { group: 'Flood', name: 'knock', type: 'bool', default: true, help: 'the KNOCK command (ISUPPORT KNOCK): ask the operators of a +i, +k or full +l channel for an invite; false: KNOCK is an unknown command' },
  { group: 'Flood', name: 'knock-rate', type: 'int', default: 4, min: 1, max: 1000, help: 'KNOCKs per knock-rate-window per client (operators exempt); beyond: 712 Too many KNOCKs (user)' },
  { group: 'Flood', name: 'knock-channel-rate', type: 'int', default: 8, min: 1, max: 1000, help: 'KNOCKs on one channel per knock-rate-window from all clients together (operators exempt); beyond: 712 Too many KNOCKs (channel)' },
  { group: 'Flood', name: 'knock-rate-window', type: 'duration', default: '120s', help: 'window of knock-rate and knock-channel-rate' },
  { group: 'Flood', name: 'ws-ping-interval', type: 'duration', default: '55s', help: 'WebSocket protocol ping interval; two unanswered pings close the connection' },
  { group: 'Flood', name: 'sasl-attempts-per-identity', type: 'int', default: 30, min: 1, max: 100000, help: 'SASL attempts per (identity, IP) per 5 minutes, across connections' },

  // HTTP API (hardening.md F1–F4)
  { group: 'HTTP API', name: 'api-keys', type: 'list', default: [], secret: true, help: 'keys accepted in X-API-Key for admin endpoints and /metrics (comma-separated; several at once for rotation; at least 32 characters each)' },
  { group: 'HTTP API', name: 'cors-origins', type: 'list', default: [], help: 'origins allowed to call the API from a browser (exact, never *)' },
  { group: 'HTTP API', name: 'http-rate-limit', type: 'int', default: 100, min: 1, max: 1000000, help: 'HTTP requests per minute per IP (429 beyond)' },
  { group: 'HTTP API', name: 'http-idle-timeout', type: 'duration', default: '10s', help: 'an HTTP connection on web-addr that sends and receives nothing for this long is closed, also one that never sends a request (an upgraded /irc WebSocket is not affected: ws-ping-interval); 0: off' },
  { group: 'HTTP API', name: 'http-history-max-bytes', type: 'bytes', default: '256k', min: 16384, max: 16777216, help: 'largest body of one GET /api/v1/channels/{name}/history response; fewer messages than asked for then, has_more true and next_before to continue (a single larger message is still sent, alone)' },
  { group: 'HTTP API', name: 'fix-key-permissions', type: 'bool', default: false, help: 'chmod 600 key files that are readable by group or others instead of refusing to start' },

  // Limits (defaults from hardening.md)
  { group: 'Limits', name: 'nick-len', type: 'int', default: 64, min: 1, max: 64, help: 'NICKLEN' },
  { group: 'Limits', name: 'channel-len', type: 'int', default: 64, min: 2, max: 64, help: 'CHANNELLEN (bytes)' },
  { group: 'Limits', name: 'topic-len', type: 'int', default: 390, min: 1, max: 390, help: 'TOPICLEN (bytes; longer topics are clipped at a UTF-8 boundary)' },
  { group: 'Limits', name: 'kick-len', type: 'int', default: 390, min: 1, max: 390, help: 'KICKLEN (bytes)' },
  { group: 'Limits', name: 'away-len', type: 'int', default: 390, min: 1, max: 390, help: 'AWAYLEN (bytes)' },
  { group: 'Limits', name: 'realname-len', type: 'int', default: 150, min: 1, max: 390, help: 'longest realname (bytes)' },
  { group: 'Limits', name: 'user-len', type: 'int', default: 20, min: 1, max: 64, help: 'USERLEN' },
  { group: 'Limits', name: 'max-channels', type: 'int', default: 100, min: 1, max: 10000, help: 'channels one user may be in (CHANLIMIT)' },
  // #12 finding 8: channel creation caps (405 beyond; operators exempt) and expiry of empty channels
  { group: 'Limits', name: 'channel-creation-per-connection', type: 'int', default: 10, min: 1, max: 100000, help: 'channels one connection may create per channel-creation-window; beyond: 405 Too many channels created' },
  { group: 'Limits', name: 'channel-creation-per-ip', type: 'int', default: 20, min: 1, max: 100000, help: 'channels one IP (IPv6: its /64) may create per channel-creation-window, all its connections together; beyond: 405 Too many channels created' },
  { group: 'Limits', name: 'channel-creation-window', type: 'duration', default: '10m', help: 'window of channel-creation-per-connection and channel-creation-per-ip' },
  { group: 'Limits', name: 'channel-creation-exempt', type: 'list', default: ['127.0.0.0/8', '::1/128'], help: 'IPs/CIDRs not counted by channel-creation-per-ip (loopback by default: behind a local proxy without PROXY/X-Forwarded-For every client is 127.0.0.1); their connections keep channel-creation-per-connection' },
  { group: 'Limits', name: 'max-channels-per-account', type: 'int', default: 50, min: 1, max: 100000, help: 'channels one DID may found (a founded channel is kept when empty, for founded-channel-expiry); beyond: 405' },
  { group: 'Limits', name: 'max-channels-total', type: 'int', default: 10000, min: 1, max: 10000000, help: 'channels that may exist server-wide; at the cap the empty channel closest to its expiry (channel-expiry, or founded-channel-expiry for a founded one) is dropped to make room, else a new channel gets 405' },
  { group: 'Limits', name: 'channel-expiry', type: 'duration', default: '24h', help: 'how long an empty channel without a DID founder is kept for its topic, modes and lists (a restart does not reset it); 0 drops it when the last member leaves, as classic IRC. Channels with a founder: founded-channel-expiry' },
  { group: 'Limits', name: 'founded-channel-expiry', type: 'duration', default: '90d', help: 'how long an empty channel with a DID founder is kept (a restart does not reset it); 0 keeps it for good. At max-channels-total an empty founded channel may be dropped before then, like any empty channel' },
  { group: 'Limits', name: 'max-targets', type: 'int', default: 4, min: 1, max: 100, help: 'targets per PRIVMSG/NOTICE/TAGMSG (TARGMAX)' },
  { group: 'Limits', name: 'max-list-entries', type: 'int', default: 100, min: 1, max: 10000, help: 'entries per ban/except/invex list (MAXLIST)' },
  { group: 'Limits', name: 'max-modes', type: 'int', default: 20, min: 1, max: 100, help: 'mode changes with a parameter per MODE line (MODES)' },
  // IRCv3 MONITOR (hardening.md C8: Ergo's 100): advertised as MONITOR=<n>; beyond it 734 ERR_MONLISTFULL
  { group: 'Limits', name: 'monitor-limit', type: 'int', default: 100, min: 1, max: 10000, help: 'nicks one client may watch with MONITOR (ISUPPORT MONITOR); beyond: 734 Monitor list is full' },
  { group: 'Limits', name: 'whowas-len', type: 'int', default: 1000, min: 0, max: 100000, help: 'WHOWAS history entries kept' },
  { group: 'Limits', name: 'sendq', type: 'bytes', default: '200k', min: 4096, help: 'bytes of undelivered output per client before "SendQ exceeded" (all output counts); above half of it the client\'s own replies wait and its input is not read until it drains' },
  // C4, #12: the sendq hold (a client's own replies waiting for it) and the stall timeout
  { group: 'Limits', name: 'sendq-hold-max', type: 'bytes', default: '2m', min: 65536, help: 'bytes of a client\'s own replies waiting for it to read (see sendq) above which a client that stops reading is disconnected after a tenth of sendq-stall-timeout instead of all of it' },
  { group: 'Limits', name: 'sendq-stall-timeout', type: 'duration', default: '30s', help: 'a client whose waiting replies (see sendq) have not moved for this long is disconnected with "SendQ exceeded"' },
  // C6 draft/multiline
  { group: 'Limits', name: 'multiline-max-bytes', type: 'int', default: 40000, min: 512, max: 1000000, help: 'draft/multiline: bytes of one multiline message (lines plus joining line feeds); beyond: FAIL BATCH MULTILINE_MAX_BYTES' },
  { group: 'Limits', name: 'multiline-max-lines', type: 'int', default: 100, min: 1, max: 10000, help: 'draft/multiline: lines of one multiline message; beyond: FAIL BATCH MULTILINE_MAX_LINES' },
  { group: 'Limits', name: 'readq', type: 'bytes', default: 8704, min: 4608, max: 65536, help: 'longest input line buffered (bytes); longer lines get 417 and are discarded' },
  { group: 'Limits', name: 'registration-timeout', type: 'duration', default: '60s', help: 'time from connect to completed registration' },
  { group: 'Limits', name: 'ping-interval', type: 'duration', default: '90s', help: 'idle time before the server sends PING' },
  { group: 'Limits', name: 'ping-timeout', type: 'duration', default: '150s', help: 'idle time before an unresponsive client is disconnected' },
  { group: 'Limits', name: 'max-registration-lines', type: 'int', default: 1024, min: 8, help: 'lines accepted before registration completes' },

  // Plugins (plugins/, docs/plugins.md): compiled in, activated by name
  { group: 'Plugins', name: 'plugin', type: 'plugins', default: [], help: 'enable a plugin: name or name:key=value,key2=value2 (repeat the flag for several; list values use |, e.g. word-filter:words=foo|bar,action=mask). Config file: [[plugin]] tables with name and [plugin.options]; env: specs separated by ;' },
  { group: 'Plugins', name: 'plugin-dir', type: 'string', help: 'directory of *.toml plugin files (each: name = "..." plus its options), enabled after the plugin option ones' },
  { group: 'Plugins', name: 'plugin-hook-budget', type: 'duration', default: '50ms', help: 'time one plugin hook call may take; longer calls are logged and their result ignored' },
  { group: 'Plugins', name: 'plugin-max-strikes', type: 'int', default: 5, min: 1, max: 1000, help: 'consecutive errors or budget overruns after which a plugin is disabled until restart' },

  // Federation (#14, docs/federation.md): off unless --iroh or --s2s-listen-addr or --s2s-peers is given
  { group: 'Federation', name: 'iroh', type: 'bool', default: false, help: 'enable the iroh (QUIC) federation endpoint; its id is this server\'s peer id (freeq-server peer-id)' },
  { group: 'Federation', name: 'iroh-bind-addr', type: 'addr', help: 'UDP address of the iroh endpoint, host:port (unset: any port on all addresses)' },
  { group: 'Federation', name: 'iroh-relay-mode', type: 'string', default: 'default', help: 'default (n0\'s relay servers help peers behind NAT find each other) or disabled (tests and private networks: peers then need a direct ID@host:port)' },
  { group: 'Federation', name: 's2s-listen-addr', type: 'addr', help: 'TLS federation listener, host:port (mutual TLS 1.3 with the federation key; unset: no TLS listener)' },
  { group: 'Federation', name: 's2s-peers', type: 'list', default: [], help: 'peers this server dials (comma-separated): ID (iroh, found by discovery), ID@host:port (iroh, direct UDP address), tls:ID@host:port (TLS), or did:web:HOST (the peer id and address from its published DID document, pinned for the life of the process); each ID must be allowed (s2s-allowed-peers or a [s2s.peers.ID] table); a did:web peer is allowed by naming it (trust full, or its [s2s.peers.ID] table)' },
  { group: 'Federation', name: 's2s-did', type: 'string', help: 'this server\'s did:web (did:web:HOST): GET /.well-known/did.json on web-addr then serves its federation key (and s2s-did-endpoint), for peers that name it by did:web; HOST must reach web-addr over HTTPS (a reverse proxy)' },
  { group: 'Federation', name: 's2s-did-endpoint', type: 'string', help: 'where the did:web document says to dial this server: tls://HOST:PORT (the TLS federation listener as peers reach it) or iroh://HOST:PORT (the iroh UDP address); unset: iroh, found by discovery' },
  { group: 'Federation', name: 's2s-allowed-peers', type: 'list', default: [], help: 'peer ids allowed to link with this server, both ways (comma-separated); a [s2s.peers.ID] table in the config file also allows its peer and sets its trust (full, relay or readonly; default full)' },
  { group: 'Federation', name: 's2s-open-federation-dev', type: 'bool', default: false, help: 'DEVELOPMENT ONLY: accept a link from any peer (at relay trust) and allow s2s-peers without an allowlist; logged as a warning at every start' },
  { group: 'Federation', name: 's2s-peer-rate', type: 'int', default: 100, min: 1, max: 1000000, help: 'events per second read from one peer (token bucket); over it the link is not read until tokens return (backpressure, nothing dropped)' },
  { group: 'Federation', name: 's2s-peer-burst', type: 'int', default: 200, min: 1, max: 10000000, help: 'token bucket size of s2s-peer-rate' },
  { group: 'Federation', name: 's2s-peer-burst-rate', type: 'int', default: 5000, min: 1, max: 10000000, help: 'events per second read from one peer while it sends the state a link brings (its users and joins, channel state): a token bucket of its own, 4 s of this rate deep; over it the link is paused like over s2s-peer-rate' },
  { group: 'Federation', name: 's2s-sendq', type: 'bytes', default: '16m', min: 262144, help: 'most bytes written to a link and not yet taken by the peer; beyond, the link is closed (netsplit) and redialled. Bursts are paced to stay far below it' },
  { group: 'Federation', name: 's2s-max-users-per-origin', type: 'int', default: 20000, min: 1, max: 10000000, help: 'most users one origin server may introduce here; a register beyond it is refused (logged)' },
  { group: 'Federation', name: 's2s-audit-max-rows', type: 'int', default: 100000, min: 0, max: 100000000, help: 'federated events kept in the audit log (every envelope whose signature verified, applied or refused, as received, signature included; encrypted at rest); the oldest go first; 0: no audit log' },
  { group: 'Federation', name: 's2s-audit-max-bytes', type: 'bytes', default: '256m', min: 65536, help: 'stored bytes of the audit log\'s envelopes (as stored, encrypted); beyond, the oldest rows go first (with s2s-audit-max-rows)' },
  { group: 'Federation', name: 's2s-ping-interval', type: 'duration', default: '30s', help: 'a link sends a ping this often' },
  { group: 'Federation', name: 's2s-ping-timeout', type: 'duration', default: '90s', help: 'a link that has sent nothing for this long is closed (netsplit) and redialled' },

  // Logging
  { group: 'Logging', name: 'log-level', type: 'string', default: 'info', help: 'fatal, error, warn, info, debug or trace' },
  // #16: human-friendly start (observability/log.ts)
  { group: 'Logging', name: 'log-format', type: 'string', default: 'auto', help: 'auto (pretty, human-readable lines and a start banner when stdout is a terminal, JSON lines otherwise), json or pretty' },
  { group: 'Logging', name: 'log-file', type: 'string', help: 'append the logs (JSON lines) to this file instead of writing them to stdout; reopened on SIGHUP and REHASH, so logrotate can move it' },
] as const satisfies readonly OptionSpec[];

/** The literal type of the option table (for config/schema.ts). */
export type OptionTable = typeof OPTION_TABLE;

export const OPTIONS: readonly OptionSpec[] = OPTION_TABLE;

export function envName(o: OptionSpec): string {
  return 'FREEQ_' + o.name.toUpperCase().replace(/-/g, '_');
}

/** `listen-addr` → `listenAddr` at the type level; must agree with camel() (server/test/unit/config-types.test.ts). */
export type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** The Config key of an option name: `listen-addr` → `listenAddr`. */
export function camel<S extends string>(name: S): CamelCase<S> {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()) as CamelCase<S>;
}
