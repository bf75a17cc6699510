export interface Addr { host: string; port: number }

export interface OperBlock {
  name: string;
  /** compared in constant time; keep the config file private (mode 0600) */
  password: string;
  /** 'admin' may KILL and everything a moderator may; 'moderator' may KILL */
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
  operPassword?: string;
  opers: OperBlock[];
  /** ms between two OPER attempts per connection (D2) */
  operAttemptInterval: number;
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
  maxConnectionsPerIp: number;
  connectionThrottle: number;
  connectionThrottleWindow: number;
  maxConnections: number;
  limitExempt: string[];
  throttleExempt: string[];
  trustedProxies: string[];
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
  wsPingInterval: number;
  saslAttemptsPerIdentity: number;
  apiKeys: string[];
  corsOrigins: string[];
  httpRateLimit: number;
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
  maxModes: number;
  whowasLen: number;
  sendq: number;
  readq: number;
  registrationTimeout: number;
  pingInterval: number;
  pingTimeout: number;
  maxRegistrationLines: number;
  logLevel: string;
}
