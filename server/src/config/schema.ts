export interface Addr { host: string; port: number }

/** One enabled plugin (plugins/registry.ts validates name and options). */
export interface PluginSpec { name: string; options: Record<string, string> }

export interface OperBlock {
  name: string;
  /** compared in constant time; keep the config file private (mode 0600) */
  password: string;
  /** 'moderator': KILL, WALLOPS; 'admin': also UBAN, LOCKDOWN (commands/registry.ts OPER_CLASS_CAPABILITIES) */
  class: 'admin' | 'moderator';
  /** host shown after a successful OPER (CHGHOST), e.g. `staff/alice`; unset: unchanged */
  vhost?: string;
}

/** The validated, frozen configuration every module reads. Times in ms, sizes in bytes. */
export interface Config {
  listenAddr: Addr;
  tlsListenAddr: Addr;
  tlsCert?: string;
  tlsKey?: string;
  webAddr: Addr;
  webTls: boolean;
  /** plain TCP clients on the bare libuv handle (transport/lean-tcp.ts) instead of net.Socket */
  leanSockets: boolean;
  /** #12 finding 7: read a PROXY header on listen-addr / tls-listen-addr (from trusted-proxies only) */
  listenProxyProtocol: boolean;
  tlsListenProxyProtocol: boolean;
  wsAllowedOrigins: string[];
  serverName: string;
  networkName: string;
  serverPassword?: string;
  motdFile?: string;
  adminLocation: string;
  adminLocation2: string;
  adminEmail: string;
  dataDir: string;
  dbPath?: string;
  /** message history (history/store.ts): retention per venue, by age in ms (0 = forever), replay on JOIN, CHATHISTORY clamp */
  historyMaxPerTarget: number;
  historyMaxAge: number;
  historyReplayOnJoin: number;
  historyQueryLimit: number;
  /** #12: byte and line budget of one CHATHISTORY reply / replay on join */
  historyReplyMaxBytes: number;
  historyReplyMaxLines: number;
  /** #12: stored bytes of all history (oldest evicted first beyond) */
  historyMaxBytes: number;
  /** #12: 'none' | 'restricted' | 'always' — history a member sees from before their join (checked at start: history/cutoff.ts) */
  historyCutoff: string;
  operPassword?: string;
  opers: OperBlock[];
  /** ms between two OPER attempts per connection (D2) */
  operAttemptInterval: number;
  /** #12 finding 17: failed OPER attempts per IP key and server-wide per operFailureWindow ms */
  operMaxFailuresPerIp: number;
  operMaxFailures: number;
  operFailureWindow: number;
  operDids: string[];
  saslMechanisms: string[];
  atprotoMethods: string[];
  challengeTimeoutSecs: number;
  plcUrl: string;
  handleResolverUrl?: string;
  serverDid?: string;
  requireSasl: boolean;
  didCacheTtl: number;
  httpTimeout: number;
  ssrfAllowLoopback: boolean;
  saslMaxBytes: number;
  /** #12 finding 6: outbound identity lookup slots (identity/lookup-limits.ts); ttl in ms */
  identityLookupsMax: number;
  identityLookupsReserved: number;
  identityLookupsPerHost: number;
  identityLookupsPerIp: number;
  identityLookupsPerConnection: number;
  identityHostFailureTtl: number;
  /** cloak templates (state/cloak.ts, #12): placeholders {hash} (both) and {method} (did) */
  guestCloak: string;
  didCloak: string;
  maxConnectionsPerIp: number;
  connectionThrottle: number;
  connectionThrottleWindow: number;
  maxConnections: number;
  limitExempt: string[];
  throttleExempt: string[];
  trustedProxies: string[];
  /** #12 finding 4: HTTP connections at accept time (per IP key, server-wide) and the descriptors kept for IRC */
  httpMaxConnectionsPerIp: number;
  httpMaxConnections: number;
  httpFdReserve: number;
  tlsHandshakeTimeout: number;
  lockdown: string;
  fakelag: boolean;
  fakelagBurst: number;
  fakelagRate: number;
  fakelagWindow: number;
  fakelagCooldown: number;
  messageRate: number;
  messageRateWindow: number;
  nickChangeRate: number;
  /** C3: JOINs of one channel per joinRateWindow ms */
  joinRate: number;
  joinRateWindow: number;
  /** C3: INVITEs per inviteRateWindow ms */
  inviteRate: number;
  inviteRateWindow: number;
  /** C3: AWAY commands per awayRateWindow ms */
  awayRate: number;
  awayRateWindow: number;
  wsPingInterval: number;
  saslAttemptsPerIdentity: number;
  apiKeys: string[];
  corsOrigins: string[];
  httpRateLimit: number;
  /** an HTTP socket with no traffic for this long is destroyed (0: never) */
  httpIdleTimeout: number;
  /** #12: body bytes of one REST history response */
  httpHistoryMaxBytes: number;
  fixKeyPermissions: boolean;
  nickLen: number;
  channelLen: number;
  topicLen: number;
  kickLen: number;
  awayLen: number;
  realnameLen: number;
  userLen: number;
  maxChannels: number;
  maxTargets: number;
  maxListEntries: number;
  /** #12 finding 8: channel creation per connection / per IP key per window (ms), exempt CIDRs; caps; expiry (ms, 0 = at once) */
  channelCreationPerConnection: number;
  channelCreationPerIp: number;
  channelCreationWindow: number;
  channelCreationExempt: string[];
  maxChannelsPerAccount: number;
  maxChannelsTotal: number;
  channelExpiry: number;
  foundedChannelExpiry: number;
  maxModes: number;
  whowasLen: number;
  sendq: number;
  /** ms a client's waiting own replies may stay unmoved before "SendQ exceeded" (C4, #12) */
  sendqStallTimeout: number;
  /** bytes of a client's own replies that may wait for it (C4, #12) */
  sendqHoldMax: number;
  /** C6 draft/multiline: bytes (lines + joining line feeds) and lines of one multiline message */
  multilineMaxBytes: number;
  multilineMaxLines: number;
  readq: number;
  registrationTimeout: number;
  pingInterval: number;
  pingTimeout: number;
  maxRegistrationLines: number;
  /** enabled plugins in order: the plugin option, then plugin-dir files (sorted by file name) */
  plugin: PluginSpec[];
  pluginDir?: string;
  /** the plugins enabled by plugin-dir files (not an option itself: `config print` leaves them out) */
  pluginsFromDir: PluginSpec[];
  /** ms */
  pluginHookBudget: number;
  pluginMaxStrikes: number;
  logLevel: string;
}
