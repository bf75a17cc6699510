/**
 * What both entries of @freeq/sdk export (index.ts for Node, browser.ts for browsers): everything
 * but the client class and its transports. Nothing here imports a Node built-in.
 */
export const SDK_VERSION = '0.1.0';

export { FreeqClientCore } from './client.js';
export type {
  FreeqClientBaseOptions, FreeqClientEvents, MessageEvent, NoticeEvent, TagmsgEvent, JoinEvent, PartEvent, RegisteredEvent, CloseEvent, HistoryMessage, RedactEvent,
} from './client.js';
export type { SaslConfig, PlainSasl, AtprotoSasl, CryptoSasl, PdsSessionSasl, PdsOAuthSasl, ServiceAuthSasl, WebTokenSasl } from './sasl-exchange.js';
export {
  MULTILINE_CAP, CONCAT_TAG, parseMultilineCap, wireLines, batches, messageLines, MultilineAssembler, assembleMultiline,
  type MultilineLimits, type WireLine,
} from './multiline.js';
export { READ_MARKER_CAP, readMarkerOf, ReadMarkerSender, type ReadMarkerEvent, type MarkerClock } from './read-markers.js';
export { TypedEmitter } from './emitter.js';
export type { EventMap, Listener } from './emitter.js';
export { parseMessage, buildLine, nickOf } from './message.js';
export type { IrcMessage } from './message.js';
export {
  SASL_CHUNK_SIZE, chunkAuthenticate, AuthenticateAssembler, base64UrlEncode, base64UrlDecode, decodeChallenge,
  encodeResponse, plainPayload,
} from './sasl.js';
export type { AtprotoChallenge, AtprotoResponse, AtprotoMethod } from './sasl.js';
export {
  ed25519Signer, secp256k1Signer, p256Signer, didKeyFromPublicKey, multikeyFromPublicKey, publicKeyFromDidKey,
  generateSecretKey,
} from './keys.js';
export type { KeyType, Signer } from './keys.js';
export { parseServerUrl, WS_SUBPROTOCOL, MAX_INBOUND_LINE, type LineTransport } from './line-transport.js';
export { openBrowserTransport, type BrowserTransportOptions, type WebSocketLike, type WebSocketConstructor } from './transport-browser.js';
export { SIG_TAG, messageCanonical, signingKeysFrom, venueOf, verifySignature, type SignedMessage, type SigningKeys } from './signatures.js';
