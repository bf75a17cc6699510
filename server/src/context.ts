import type { Config } from './config/schema.js';
import type { Ops, Clock } from './state/ops.js';
import type { World } from './state/world.js';
import type { EventBus } from './state/bus.js';
import type { Logger } from './observability/log.js';
import type { Fanout } from './session/fanout.js';
import type { ServerNotices } from './session/server-notices.js';
import type { TransportKind } from './transport/conn.js';
import type { Monitor } from './session/monitor.js';
import type { IdentityService } from './identity/types.js';
import type { Metrics } from './observability/metrics.js';
import type { HistoryPort, HistoryReader, ReadMarkerStore } from './history/types.js';
import type { PluginPort } from './plugins/api.js';
import type { MessageSigner } from './keys/signer.js';
import type { ServerBans } from './limits/server-bans.js';
import type { OperFailures } from './limits/oper-failures.js';
import type { ApiTokenService } from './auth/api-tokens.js';
import type { LoginTokens } from './auth/login-tokens.js';
import type { OAuthLogin } from './identity/oauth.js';

/**
 * What the server offers commands, sessions and the HTTP API (the ports of DESIGN.md §4), built
 * once in server.ts. Typed by ports and services only, never by a storage class (#13): this
 * module imports types only, so any layer handed a ServerContext (commands/, session/, http/)
 * may import it without depending on the others.
 */
/** What operators may do to federation links (SQUIT, CONNECT); `server` is a server name or peer id. */
export interface FederationControl {
  /** close the link and neither dial nor accept that peer until CONNECT; false: no such peer */
  squit(server: string, reason: string): boolean;
  /** allow the peer again and dial it now if it is dialled (s2s-peers); false: no such peer */
  connect(server: string): boolean;
  /** the links that are up, with their sendq and traffic since they opened (STATS l) */
  stats(): readonly FederationLinkStats[];
}

/** One federation link as STATS l shows it (federation/links.ts Links.stats). */
export interface FederationLinkStats {
  peerId: string;
  name: string;
  direction: 'in' | 'out';
  /** bytes written and not yet taken by the peer */
  sendq: number;
  sentMsgs: number;
  sentBytes: number;
  recvMsgs: number;
  recvBytes: number;
  /** ms since the epoch */
  openedAt: number;
}

/** lines and bytes the clients of one transport sent and got since the server started (STATS l; session/session.ts counts) */
export interface Traffic { msgsIn: number; bytesIn: number; msgsOut: number; bytesOut: number }

/** One class of client connections as STATS l shows it: the clients of one transport (server.ts). */
export interface ClientClassStats {
  transport: TransportKind;
  connections: number;
  /** bytes pending to the clients of this class now */
  sendq: number;
  /** since the server started, all connections of the class (closed ones too) */
  traffic: Traffic;
}

/** What a reload (REHASH, SIGHUP) did (rehash.ts). */
export interface RehashReport {
  /** the config file read, if any */
  file?: string;
  /** configuration errors: nothing was changed */
  problems: string[];
  /** options now in effect with their new values */
  applied: string[];
  /** options whose new values wait for a restart (the old ones stay in effect) */
  restart: string[];
  /** other things done or found (the TLS certificate reloaded, a MOTD file that cannot be read…) */
  notes: string[];
}

export interface ServerContext {
  readonly config: Config;
  readonly world: World;
  readonly ops: Ops;
  /** every change Ops makes, published once (state/bus.ts): fan-out, plugins, metrics and, next, federation subscribe */
  readonly bus: EventBus;
  readonly fanout: Fanout;
  /** IRCv3 MONITOR: who watches which nick (session/monitor.ts; a bus subscriber) */
  readonly monitor: Monitor;
  /** AT Protocol identity: DID resolution, signatures, PDS calls (identity/types.ts) */
  readonly identity: IdentityService;
  /** this server's DID, the audience of service-auth tokens */
  readonly serverDid: string;
  /** federation peer ID: hex ed25519 public key of <data-dir>/iroh-key.secret (keys/peer-identity.ts) */
  readonly peerId: string;
  /** message signing (+freeq.at/sig) with msg-signing-key.secret; public keys for GET /api/v1/signing-key (keys/signer.ts) */
  readonly signing: MessageSigner;
  readonly clock: Clock;
  readonly log: Logger;
  readonly version: string;
  readonly startedAt: number;
  /** RPL_ISUPPORT tokens, computed from the configuration (again after a REHASH that changes them) */
  readonly isupport: readonly string[];
  /** MOTD lines, or undefined when there is none (422) */
  motd(): string[] | undefined;
  /** message history (history/): every delivered message is offered here */
  readonly history: HistoryPort;
  /** message history, read side (CHATHISTORY, replay on join, REST API): history/store.ts */
  readonly historyReader: HistoryReader;
  /** draft/read-marker markers per account (MARKREAD): the history/types.ts port */
  readonly readMarkers: ReadMarkerStore;
  /** server plugins (plugins/): hooks on connect, auth, join, message, nick change */
  readonly plugins: PluginPort;
  /** Prometheus counters (observability/metrics.ts) */
  readonly metrics: Metrics;
  /** HTTP API bearer tokens (APITOKEN, GET /api/v1/me): random, hashed, bound to a DID */
  readonly apiTokens: ApiTokenService;
  /** single-use IRC login tokens from the web client's Bluesky login (SASL method web-token) */
  readonly loginTokens: LoginTokens;
  /** remembered Bluesky logins of the web client (HttpOnly cookie; web-session-ttl) */
  readonly webSessions: ApiTokenService;
  /** the Bluesky (AT Protocol OAuth) login of the web client */
  readonly oauth: OAuthLogin;
  /** server bans by mask / IP / CIDR (UBAN, limits/server-bans.ts); persisted */
  readonly bans: ServerBans;
  /** failed OPER attempts per IP and server-wide (#12 finding 17, limits/oper-failures.ts) */
  readonly operFailures: OperFailures;
  /** counters shown by LUSERS and metrics */
  readonly stats: { connections: number };
  /** server notices to operators with user mode +s (session/server-notices.ts) */
  readonly notices: ServerNotices;
  /** commands run since the start, by name (STATS m; counted by commands/dispatch.ts) */
  readonly commandUsage: Map<string, number>;
  /** client connections per transport (STATS l) */
  clientClasses(): ClientClassStats[];
  /**
   * Re-read the configuration (REHASH, SIGHUP; rehash.ts): apply what may change at run time,
   * report what needs a restart. `by` names who asked (an operator's nick, SIGHUP), for the log.
   */
  rehash(by: string): RehashReport;
  /** the configuration file REHASH reads (undefined: none, only the command line and environment) */
  readonly configFile: string | undefined;
  /** federation links (#14), when federation is on: SQUIT and CONNECT (federation/links.ts) */
  federation?: FederationControl;
}
