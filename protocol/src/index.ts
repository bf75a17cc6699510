/**
 * @freeq/protocol: what the server, the SDK and the web client share (#15). Browser-safe: no
 * Node built-ins, no Buffer.
 */
export { msg, nickOf, type IrcMessage } from './message.js';
export { parseBody, parseMessage, parseTags, type BodyError, type BodyParse } from './parse.js';
export { buildLine, serialize } from './serialize.js';
export { escapeTagValue, isClientOnlyTag, isValidTagKey, serializeTags, unescapeTagValue } from './tags.js';
export { base64Encode, base64UrlDecode, base64UrlEncode, utf8 } from './base64.js';
export {
  ATPROTO_METHODS, AuthenticateAssembler, challengeJson, chunkAuthenticate, decodeChallenge, encodeResponse, plainPayload, SASL_CHUNK_SIZE,
  type AtprotoChallenge, type AtprotoChallengeWire, type AtprotoMethod, type AtprotoResponse,
} from './sasl.js';
