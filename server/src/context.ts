import type { Config } from './config/schema.js';
import type { Ops, Clock } from './state/ops.js';
import type { World } from './state/world.js';
import type { EventBus } from './state/bus.js';
import type { Logger } from './observability/log.js';
import type { Fanout } from './session/fanout.js';
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
}

export interface ServerContext {
  readonly config: Config;
  readonly world: World;
  readonly ops: Ops;
  /** every change Ops makes, published once (state/bus.ts): fan-out, plugins, metrics and, next, federation subscribe */
  readonly bus: EventBus;
  readonly fanout: Fanout;
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
  /** RPL_ISUPPORT tokens, computed from config at startup */
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
  /** federation links (#14), when federation is on: SQUIT and CONNECT (federation/links.ts) */
  federation?: FederationControl;
}
