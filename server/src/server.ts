import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.js';
import type { ServerContext } from './context.js';
import { Dispatcher } from './commands/dispatch.js';
import { COMMANDS } from './commands/index.js';
import { createHttpApp } from './http/app.js';
import { createIdentityService } from './identity/service.js';
import { SignatureVerifier } from './identity/verifier.js';
import { createLogger, type Logger } from './observability/log.js';
import { Metrics } from './observability/metrics.js';
import { NO_PLUGINS } from './plugins/api.js';
import { pluginEventSink } from './plugins/events.js';
import { pluginOutput } from './plugins/host.js';
import { PluginManager } from './plugins/manager.js';
import { isupportLines, isupportTokens } from './protocol/isupport.js';
import * as N from './protocol/numerics.js';
import { CLIENT_LINE_LIMITS } from './protocol/parse.js';
import { Fanout } from './session/fanout.js';
import { Monitor } from './session/monitor.js';
import { Session } from './session/session.js';
import { Outgoing } from './session/outgoing.js';
import { ServerNotices } from './session/server-notices.js';
import { PluginSwitch } from './plugins/switch.js';
import type { ConfigSources } from './config/load.js';
import type { RehashReport, Traffic } from './context.js';
import { rehash, isupportChanges, type ReloadHooks } from './rehash.js';
import { connectUrls, defaultMotd, readMotdFile, type ConnectUrls } from './welcome.js';
import { reloadWebTls } from './http/app.js';
import { webClientServed } from './http/routes/web-client.js';
import { Ops, type Clock } from './state/ops.js';
import { World, type LockdownLevel } from './state/world.js';
import { EventBus } from './state/bus.js';
import { openDb, type Db } from './storage/db.js';
import { SqliteAccountStore } from './storage/repos/accounts.js';
import { SqliteChannelStore } from './storage/repos/channels.js';
import { SqliteMessageRepo } from './storage/repos/messages.js';
import { SqliteReadMarkerRepo } from './storage/repos/read-markers.js';
import { DidCacheRepo } from './storage/repos/did-cache.js';
import { HistoryStore } from './history/store.js';
import { ThreadWriter } from './history/writer.js';
import { SqliteServerBanStore } from './storage/repos/server-bans.js';
import { ServerBans } from './limits/server-bans.js';
import { ChannelCreationThrottle } from './limits/channel-creation.js';
import { OperFailures } from './limits/oper-failures.js';
import { SqliteApiTokenStore } from './storage/repos/api-tokens.js';
import { SqliteS2sAudit } from './storage/repos/s2s-audit.js';
import type { FieldCipher } from './storage/crypto.js';
import { ApiTokenService, WEB_SESSIONS_PER_ACCOUNT } from './auth/api-tokens.js';
import { loadPeerIdentity } from './keys/peer-identity.js';
import { createMessageSigner, loadSigningSeed, signedTags } from './keys/signer.js';
import { channelVenue, dmVenue } from './keys/chat-signature.js';
import { visOf } from './history/types.js';
import { newMsgid } from './session/outgoing.js';
import { unlockDatabase } from './keys/db-key.js';
import { lockDataDir, type DataDirLock } from './keys/server-lock.js';
import { loadCloakKey } from './keys/cloak-key.js';
import { Cloaks } from './state/cloak.js';
import { SigningKeyRepo } from './storage/repos/signing-keys.js';
import type { IrcConn, TransportKind } from './transport/conn.js';
import { Admission } from './transport/admission.js';
import { openDescriptors, softDescriptorLimit } from './util/fd-limit.js';
import { createTcpListener, createTlsListener, listen, type TcpListener, type TlsListener } from './transport/listeners.js';
import { VERSION } from './version.js';
import { LoginTokens } from './auth/login-tokens.js';
import { OAuthLogin } from './identity/oauth.js';
import { Links, peerPolicies } from './federation/links.js';
import { DidPeers, ownDidDocument } from './s2s-did.js';
import { Peers, type PeerPolicy } from './federation/peers.js';

export interface ServerOptions {
  clock?: Clock;
  logger?: Logger;
  /** where `config` came from: REHASH and SIGHUP load it again from these (#16; without: nothing to re-read) */
  configSources?: ConfigSources;
  /** reopen log-file (REHASH, SIGHUP: after logrotate) */
  reopenLogs?: () => void;
}

export interface RunningServer {
  readonly context: ServerContext;
  /** bound addresses (port 0 in config → the real port here) */
  readonly addresses: { irc: AddressInfo; tls?: AddressInfo; web: AddressInfo; s2s?: AddressInfo; iroh?: string[] };
  /** federation (#14): the peers and their links, when it is on */
  readonly federation?: { peers: Peers; links: Links; audit: SqliteS2sAudit };
  /** connection admission (per-IP counters, throttle, cap): `open` counts admitted sockets until they close */
  readonly admission: Admission;
  /** what plain TCP clients run on: bare libuv handles (lean-sockets) or net.Socket */
  readonly tcpSockets: 'lean' | 'net';
  /** where to connect: IRC, TLS, the web client, WebSocket (the start banner, the default MOTD) */
  readonly urls: ConnectUrls;
  /** re-read the TLS certificate and key (after a renewal); existing connections keep theirs */
  reloadTls(): void;
  /** REHASH / SIGHUP (#16, rehash.ts): reload the configuration; what needs a restart is reported */
  rehash(by: string): RehashReport;
  stop(reason?: string): Promise<void>;
}

/**
 * The composition root: the only module that imports everything. `main.ts` and every test boot
 * the server through here, so tests exercise production wiring (hardening.md §5).
 */
export async function startServer(config: Config, opts: ServerOptions = {}): Promise<RunningServer> {
  // the data directory lock (keys/server-lock.ts) first, before any key or database file is read:
  // a second server on the same directory stops here, leaving the first one's pid file and keys
  // alone (bad cloak templates and history-cutoff values are configuration errors: config/load.ts)
  const lock = lockDataDir(config.dataDir, { server: true });
  try {
    return await startLocked(config, opts, lock);
  } catch (e) {
    lock.release();
    throw e;
  }
}

async function startLocked(config: Config, opts: ServerOptions, lock: DataDirLock): Promise<RunningServer> {
  const clock = opts.clock ?? { now: () => Date.now() };
  const log = opts.logger ?? createLogger(config.logLevel);
  // #16: the configuration the server runs on; a REHASH swaps it (rehash.ts, config/reload.ts).
  // Modules that read `context.config` when they act see the new values; the rest have hooks.
  let live = config;
  // before the database: a key file with loose permissions stops the start (DESIGN.md §7)
  // (keys/: three independent random keys, 0600; --fix-key-permissions chmods instead of refusing)
  const keyOpts = { fixPermissions: config.fixKeyPermissions, onFixed: (path: string, mode: number) => log.warn({ path, mode: mode.toString(8) }, 'key file permissions fixed (chmod 600)') };
  const peer = loadPeerIdentity(config.dataDir, keyOpts);
  const signingSeed = loadSigningSeed(config.dataDir, keyOpts);
  const cloakKey = loadCloakKey(config.dataDir, keyOpts);
  const dbPath = config.dbPath ?? join(config.dataDir, 'freeq.db');
  // #16: a migration that rewrites rows, or encrypting an old database, logs its progress
  const report = { progress: (line: string) => { log.info(line); } };
  const db: Db = openDb(dbPath, report);
  // a wrong or missing db-encryption-key.secret stops the start here (never garbage, never a new key over data)
  let unlocked: ReturnType<typeof unlockDatabase>;
  try {
    unlocked = unlockDatabase(db, config.dataDir, { ...keyOpts, ...report });
  } catch (e) {
    db.close();
    throw e;
  }
  const signing = createMessageSigner(signingSeed.key, new SigningKeyRepo(db), clock.now());
  // public identifiers only: never key material
  log.info({ peerId: peer.peerId, signingKid: signing.kid, dbKey: unlocked.cipher.fingerprint, created: [peer, signingSeed, cloakKey, unlocked].filter((k) => k.created).map((k) => k.path), encryptedExisting: unlocked.adopted }, 'keys loaded');
  const world = new World(config.lockdown as LockdownLevel);
  // every change Ops makes is published here (state/bus.ts); fan-out, plugins and metrics subscribe below
  let bus: EventBus | undefined;
  // server bans (UBAN, limits/server-bans.ts): changed through Ops, read by admission and registration
  const bans = new ServerBans(new SqliteServerBanStore(db), clock);
  const accountStore = new SqliteAccountStore(db, (err, did) => log.error({ err, did }, 'account write failed'));
  const ops = new Ops(world, new SqliteChannelStore(db, unlocked.cipher), accountStore, (ev) => { bus!.publish(ev); }, {
    // read when used: a REHASH changes them (config/reload.ts)
    get maxListEntries() { return live.maxListEntries; }, get whowasLen() { return live.whowasLen; }, get maxChannels() { return live.maxChannels; },
    get operDids() { return live.operDids; },
    serverId: peer.peerId, // users' network-wide ids (state/ids.ts)
    knocks: { get knockChannelRate() { return live.knockChannelRate; }, get knockRateWindow() { return live.knockRateWindow; } },
    serverBans: bans,
    cloaks: new Cloaks(cloakKey.key, config),
    // #12 finding 8: channel creation caps and expiry (state/channel-lifecycle.ts)
    get maxChannelsTotal() { return live.maxChannelsTotal; }, get maxChannelsPerAccount() { return live.maxChannelsPerAccount; }, channelExpiry: config.channelExpiry,
    foundedChannelExpiry: config.foundedChannelExpiry,
    channelCreation: new ChannelCreationThrottle({
      perConnection: config.channelCreationPerConnection, perIp: config.channelCreationPerIp,
      windowMs: config.channelCreationWindow, exempt: config.channelCreationExempt,
    }, clock),
    limitHit: (kind) => context.metrics.limitHit(kind),
  }, clock, {
    // messages (state/message-ops.ts): plugins, ids, signing and history, all created below
    onMessage: (m) => plugins.onMessage(m),
    newMsgid,
    channelVenue,
    dmVenue,
    sign: (m) => signedTags(signing, m),
    record: (m) => history.record(m),
    visibility: (ch) => visOf(ch.modes),
  }, {
    // REDACT (#16, state/redact-ops.ts): history finds the message and applies the redaction in its writer order
    find: (msgid) => history.find(msgid),
    record: (r) => history.record(r),
    newMsgid,
    channelVenue,
    visibility: (ch) => visOf(ch.modes),
    windowMs: config.redactWindow,
  });
  bus = new EventBus(peer.peerId, ops.hlc, (err, subscriber, ev) => log.error({ err, subscriber, event: ev.kind }, 'event subscriber failed'));
  // #12 finding 15: a persisted name with a character channel names may no longer hold is not loaded
  for (const name of ops.restore()) log.warn({ channel: name }, 'persisted channel not loaded: its name holds a control, format or invisible character (row left in the database)');
  const fanout = new Fanout({ world, serverName: () => config.serverName, maxModes: () => live.maxModes, now: () => clock.now() });
  bus.subscribe('fanout', fanout.onEvent);
  // IRCv3 MONITOR (session/monitor.ts): after fan-out, so a NICK line comes before its 731/730
  const monitor = new Monitor({ world, serverName: () => config.serverName, meta: (u) => fanout.meta(u) });
  bus.subscribe('monitor', monitor.onEvent);
  // plugins (plugins/manager.ts): each hook guarded by try/catch and plugin-hook-budget
  // behind a switch: a REHASH that changes the plugin configuration starts them again (#16)
  const startPlugins = (c: Config) => {
    const specs = [...c.plugin, ...c.pluginsFromDir];
    return specs.length === 0 ? NO_PLUGINS : new PluginManager({
      specs, hookBudgetMs: c.pluginHookBudget, maxStrikes: c.pluginMaxStrikes,
      output: pluginOutput({ world, fanout, serverName: () => config.serverName }),
      log: log.child({ sub: 'plugins' }), limitHit: (kind) => context.metrics.limitHit(kind),
    });
  };
  const plugins = new PluginSwitch(startPlugins(config));
  bus.subscribe('plugins', pluginEventSink(plugins), ['join', 'nick']);
  // #16 server notices (user mode +s): connects, quits, opers, bans, lockdown changes, floods, refusals
  const notices = new ServerNotices({
    serverName: () => config.serverName, now: () => clock.now(), meta: () => fanout.meta(),
    limit: () => ({ max: live.serverNoticeRate, windowMs: live.serverNoticeWindow }),
    log: log.child({ sub: 'snotice' }), dropped: (n) => { for (let i = 0; i < n; i++) context.metrics.limitHit('server-notice'); },
  });
  bus.subscribe('notices', notices.onEvent, ['quit', 'user-mode', 'server-ban', 'lockdown']);
  bus.subscribe('metrics', (ev) => context.metrics.event(ev.kind));

  // message history (issue 5): batched writes, retention by count and age (history/store.ts)
  // encryption and inserts on a writer thread with its own connection (not for :memory:, which
  // a second connection cannot see)
  const messages = new SqliteMessageRepo(db, unlocked.cipher);
  const historyLog = log.child({ sub: 'history' });
  // #12: retention by count and by stored bytes of all history (history-max-bytes)
  const retention = { maxPerTarget: config.historyMaxPerTarget, maxBytes: config.historyMaxBytes };
  const history = new HistoryStore(messages, {
    maxPerTarget: config.historyMaxPerTarget, maxAge: config.historyMaxAge, maxBytes: config.historyMaxBytes, now: () => clock.now(), log: historyLog,
  }, dbPath === ':memory:' ? undefined : await ThreadWriter.start(dbPath, unlocked.cipher, messages, retention, historyLog));

  // SASL signature checks on their own thread, started on the first check (identity/verifier.ts)
  const identityLog = log.child({ sub: 'identity' });
  const verifier = new SignatureVerifier(identityLog);

  const identity = createIdentityService({ config, didCache: new DidCacheRepo(db), log: identityLog, now: () => clock.now(), verifier, limitHit: (kind) => context.metrics.limitHit(kind) });
  // STATS l (#16): lines and bytes per transport since the start (session/session.ts counts them)
  const traffic: Record<TransportKind, Traffic> = {
    tcp: { msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0 }, tls: { msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0 }, ws: { msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0 },
  };
  const sessions = new Set<Session>();
  let isupport: readonly string[] = isupportTokens(config);
  // where to connect (set once listening): the default MOTD and the start banner say it
  let urls: ConnectUrls | undefined;
  /** motd-file's lines (reloadHooks.motd): read at start and on REHASH, not per connection */
  let motdLines = config.motdFile === undefined ? undefined : readMotdFile(config.motdFile);
  // what a REHASH changes beyond `live` (rehash.ts); the listeners and admission are made below
  const reloadHooks: ReloadHooks = {
    get tlsActive() { return tls !== undefined; },
    reloadTls(cert, key) {
      tls!.reloadCertificate(cert, key);
      if (config.webTls) reloadWebTls(http, cert, key);
    },
    admission: (c) => {
      admission.reconfigure(c);
      context.operFailures.setExempt(c.limitExempt); // limit-exempt is also outside the server-wide OPER budget
    },
    cloaks: (c) => ops.cloaks.setTemplates(c),
    motd: (c) => (motdLines = c.motdFile === undefined ? undefined : readMotdFile(c.motdFile)),
    plugins: (c) => { plugins.replace(startPlugins(c)); },
    isupport: (c) => {
      const next = isupportTokens(c);
      const changed = isupportChanges(isupport, next);
      isupport = next;
      // "If the value of a parameter changes, the server SHOULD re-advertise the parameter with the
      // new value in an RPL_ISUPPORT reply" (modern.ircdocs.horse#rplisupport-005); `-NAME` for one gone
      if (changed.length === 0) return;
      for (const u of world.users.values()) {
        if (!u.local || !u.registered) continue;
        for (const line of isupportLines(changed)) {
          u.link.deliver(new Outgoing({ tags: new Map(), source: config.serverName, command: N.RPL_ISUPPORT, params: [u.nick, ...line, 'are supported by this server'] }, fanout.meta()));
        }
      }
    },
    ...(opts.reopenLogs ? { reopenLogs: opts.reopenLogs } : {}),
  };
  const context: ServerContext = {
    get config() { return live; },
    world, ops, bus, fanout, monitor, clock, log, version: VERSION, startedAt: clock.now(),
    identity,
    serverDid: config.serverDid ?? `did:web:${config.serverName}`,
    peerId: peer.peerId,
    signing,
    get isupport() { return isupport; },
    notices,
    commandUsage: new Map(),
    clientClasses: () => (['tcp', 'tls', 'ws'] as const).map((transport) => {
      let connections = 0;
      let sendq = 0;
      for (const s of sessions) if (s.conn.peer.kind === transport) { connections++; sendq += s.conn.pendingBytes(); }
      return { transport, connections, sendq, traffic: { ...traffic[transport] } };
    }),
    configFile: opts.configSources?.file,
    rehash: (by) => rehash({
      ...(opts.configSources ? { sources: opts.configSources } : {}),
      current: () => live, swap: (c) => { live = c; }, notices, log, hooks: reloadHooks,
    }, by),
    stats: { connections: 0 },
    metrics: new Metrics(),
    history,
    historyReader: history,
    readMarkers: new SqliteReadMarkerRepo(db),
    plugins,
    bans,
    operFailures: new OperFailures({
      perIp: config.operMaxFailuresPerIp, global: config.operMaxFailures, windowMs: config.operFailureWindow, exempt: config.limitExempt,
    }, clock),
    apiTokens: new ApiTokenService(new SqliteApiTokenStore(db), () => clock.now()),
    loginTokens: new LoginTokens(),
    webSessions: new ApiTokenService(new SqliteApiTokenStore(db, 'web_sessions'), () => clock.now(), { ttlMs: config.webSessionTtl, perAccount: WEB_SESSIONS_PER_ACCOUNT }),
    // the loopback redirect names the HTTP listener's real port (web-addr may say 0)
    oauth: new OAuthLogin({
      config, log: identityLog,
      identity,
      loopbackOrigin: () => `http://127.0.0.1:${(http.server.address() as AddressInfo | null)?.port ?? config.webAddr.port}`,
    }),
    // motd-file: read at start and on REHASH (reloadHooks.motd), not per connection; no motd-file:
    // what this server is and how to log in (welcome.ts); a missing or empty file: 422
    motd() {
      if (live.motdFile === undefined) return urls ? defaultMotd(live, urls) : undefined;
      return motdLines;
    },
  };

  context.bans.load();
  context.metrics.watchHistory(() => history.usage());
  // knock = false: KNOCK is not in the table (421, not in HELP, no ISUPPORT KNOCK)
  const dispatcher = new Dispatcher(context, config.knock ? COMMANDS : COMMANDS.filter((c) => c.name !== 'KNOCK'));
  let nextId = 1;
  // one deps object for every session (not a closure per connection)
  const sessionDeps = {
    server: context, dispatcher, lineLimits: CLIENT_LINE_LIMITS, traffic,
    onClosed: (x: Session) => {
      sessions.delete(x);
      context.stats.connections--;
      context.metrics.connectionClosed(x.conn.peer.kind);
      if (x.registered) context.metrics.userGone();
    },
  };
  const accept = (conn: IrcConn): void => {
    context.stats.connections++;
    context.metrics.connectionOpened(conn.peer.kind);
    const s = new Session(nextId++, conn, sessionDeps);
    sessions.add(s);
    context.plugins.onConnect({ sessionId: s.id, ip: conn.peer.ip, transport: conn.peer.kind });
  };

  // one sweep for every session's deadlines (cheaper than a timer per connection)
  const tickMs = Math.max(50, Math.min(1000, config.registrationTimeout / 4, config.pingInterval / 4));
  const sweep = setInterval(() => {
    const now = clock.now();
    for (const s of sessions) s.tick(now);
    ops.expireChannels(now); // empty channels past channel-expiry / founded-channel-expiry (#12 finding 8); O(1) when none is due
  }, tickMs);
  sweep.unref();

  // hardening A1–A3, A7, I3: one admission (per-IP key counter, throttle, cap, lockdown) for every
  // transport; #12 finding 4: also the HTTP port's connections, and the descriptors it must leave
  // to IRC (soft limit read once; descriptors open now stand for the database, threads and the like)
  const fdLimit = softDescriptorLimit();
  const admission = new Admission({
    config, clock, lockdown: () => world.lockdown,
    limitHit: (kind) => context.metrics.limitHit(kind), log: log.child({ sub: 'admission' }),
    isIpBanned: (ip) => context.bans.isIpBanned(ip),
    refused: (_kind, ip, transport, text) => notices.refused(ip, transport, text, false),
    ...(fdLimit !== undefined ? { descriptors: { limit: fdLimit, baseline: openDescriptors() ?? 0 } } : {}),
  });
  if (fdLimit === undefined) log.warn('file descriptor limit unknown: http-fd-reserve is not enforced');
  if ((config.listenProxyProtocol || config.tlsListenProxyProtocol) && config.trustedProxies.length === 0) {
    log.warn('listen-proxy-protocol / tls-listen-proxy-protocol is on but trusted-proxies is empty: no PROXY header will be read');
  }
  // accept() failing (EMFILE at the descriptor limit) is counted (limit kind accept-failed) and
  // logged at most once a minute, with a count, on every listener
  let acceptFailures = 0;
  let acceptLoggedAt = -Infinity;
  const acceptFailed = (err: Error, listener: 'tcp' | 'tls' | 'http'): void => {
    acceptFailures++;
    context.metrics.limitHit('accept-failed');
    const now = clock.now();
    if (now - acceptLoggedAt < 60_000) return;
    acceptLoggedAt = now;
    log.warn({ err: err.message, listener, failures: acceptFailures }, 'accept failed (file descriptor limit?); the listener goes on');
  };
  const listenerDeps = {
    readq: config.readq, accept, admission, leanSockets: config.leanSockets, acceptFailed,
    proxyProtocol: { tcp: config.listenProxyProtocol, tls: config.tlsListenProxyProtocol },
  };
  const tcp: TcpListener = createTcpListener(listenerDeps);
  let tls: TlsListener | undefined;
  let federation: { peers: Peers; links: Links; audit: SqliteS2sAudit; didPeers: DidPeers } | undefined;
  const http = createHttpApp({
    config, accept, admission, context, acceptFailed,
    ...(config.s2sDid !== undefined ? { serverDid: ownDidDocument(config, peer.peerId) } : {}),
    health: () => ({ status: 'ok', server_name: config.serverName, version: VERSION, connections: context.stats.connections, channels: world.channels.size, uptime_secs: Math.floor((clock.now() - context.startedAt) / 1000) }),
  });
  try {
    await listen(tcp, config.listenAddr);
    if (config.tlsCert && config.tlsKey) {
      tls = createTlsListener(config.tlsCert, config.tlsKey, listenerDeps);
      await listen(tls, config.tlsListenAddr);
    }
    await http.listen({ host: config.webAddr.host, port: config.webAddr.port });
    federation = await startFederation(config, context, peer, clock, log, db, unlocked.cipher);
    if (federation) context.federation = federation.links;
  } catch (e) {
    // a port in use: release what was opened (the writer thread, the database) before failing
    tcp.close();
    tls?.close();
    await http.close().catch(() => {});
    clearInterval(sweep);
    history.close();
    verifier.close();
    accountStore.flush();
    db.close();
    throw e;
  }
  const addresses = {
    irc: tcp.address() as AddressInfo,
    tls: tls?.address() as AddressInfo | undefined,
    web: http.server.address() as AddressInfo,
    ...(federation?.links.addresses.tls ? { s2s: federation.links.addresses.tls } : {}),
    ...(federation?.links.addresses.iroh ? { iroh: federation.links.addresses.iroh } : {}),
  };
  urls = connectUrls(config, addresses, webClientServed(config.webClientDir));
  log.info({ irc: addresses.irc, tls: addresses.tls, web: addresses.web, serverName: config.serverName, tcpSockets: tcp.socketLayer }, 'freeq listening');
  if (config.leanSockets && tcp.socketLayer !== 'lean') log.warn({ reason: tcp.leanUnavailable }, 'lean-sockets: the lean TCP path is not available here; plain TCP clients use net.Socket');

  let stopped = false;
  return {
    context,
    addresses,
    ...(federation ? { federation } : {}),
    admission,
    tcpSockets: tcp.socketLayer,
    urls,
    reloadTls() {
      if (!tls) return;
      tls.reloadCertificate();
      log.info('TLS certificate reloaded');
    },
    rehash: (by) => context.rehash(by),
    async stop(reason = 'Server shutting down') {
      if (stopped) return;
      stopped = true;
      clearInterval(sweep);
      notices.stop();
      // the listener's 'close' comes once its last client (lean or net.Socket) is gone: sessions
      // flush and close here, a peer that does not read is cut off 2 s later
      const tcpDrained = new Promise<void>((r) => { tcp.close(() => r()); });
      tls?.close();
      for (const s of [...sessions]) s.close(reason);
      // after the sessions: their QUITs still reach the peers, then the links close
      federation?.didPeers.stop();
      await federation?.links.stop(reason);
      federation?.audit.close();
      await http.close();
      let drainTimer: NodeJS.Timeout | undefined;
      await Promise.race([tcpDrained, new Promise((r) => { drainTimer = setTimeout(r, 2500); })]);
      clearTimeout(drainTimer);
      await new Promise((r) => setTimeout(r, 20));
      history.close();
      verifier.close();
      accountStore.flush();
      db.close();
      lock.release();
    },
  };
}

/**
 * Federation (#14, docs/federation.md): on with --iroh, --s2s-listen-addr or --s2s-peers. Peers
 * turns local changes into signed envelopes and applies the peers' through Ops; Links holds the
 * listeners, the diallers and the ping.
 */
async function startFederation(
  config: Config, context: ServerContext, peer: { peerId: string; seed: Buffer }, clock: Clock, log: Logger, db: Db, cipher: FieldCipher,
): Promise<{ peers: Peers; links: Links; audit: SqliteS2sAudit; didPeers: DidPeers } | undefined> {
  if (!config.iroh && config.s2sListenAddr === undefined && config.s2s.dial.length === 0 && config.s2s.didPeers.length === 0) return undefined;
  const s2sLog = log.child({ sub: 's2s' });
  const audit = new SqliteS2sAudit(db, cipher, config.s2sAuditMaxRows, config.s2sAuditMaxBytes, (err) => s2sLog.error({ err }, 'S2S audit log write failed'));
  // the configured allowlist, then the peers named by did:web once resolved (s2s-did.ts)
  const didPeers = new DidPeers({ config, identity: context.identity, log: s2sLog, selfId: peer.peerId });
  const configured = peerPolicies(config.s2s, peer.peerId, config.s2sOpenFederationDev);
  const policy = (id: string): PeerPolicy | undefined => configured(id) ?? didPeers.policy(id);
  const now = (): number => clock.now();
  const peers = new Peers({
    self: { peerId: peer.peerId, seed: peer.seed, name: config.serverName },
    ops: context.ops, world: context.world, bus: context.bus, hlc: context.ops.hlc, policy, log: s2sLog, now,
    maxUsersPerOrigin: config.s2sMaxUsersPerOrigin, sendqBytes: config.s2sSendq, counters: context.metrics.s2s,
    audit: (r) => audit.record(r),
    netsplit: (servers, fn) => context.fanout.withNetsplit(servers, fn),
  });
  const links = await Links.start({
    self: { peerId: peer.peerId, seed: peer.seed, name: config.serverName },
    s2s: config.s2s, openDev: config.s2sOpenFederationDev,
    ...(config.s2sListenAddr ? { tlsListen: config.s2sListenAddr } : {}),
    iroh: config.iroh, ...(config.irohBindAddr ? { irohBind: config.irohBindAddr } : {}),
    irohRelayMode: config.irohRelayMode === 'disabled' ? 'disabled' : 'default',
    rate: { perSecond: config.s2sPeerRate, burst: config.s2sPeerBurst },
    burstRate: { perSecond: config.s2sPeerBurstRate, burst: config.s2sPeerBurstRate * 4 }, sendqBytes: config.s2sSendq,
    pingIntervalMs: config.s2sPingInterval, pingTimeoutMs: config.s2sPingTimeout,
  }, peers, policy, s2sLog, now);
  didPeers.start(links);
  return { peers, links, audit, didPeers };
}
