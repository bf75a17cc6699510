/**
 * The pure parts of the SASL client (AUTHENTICATE chunking and reassembly, the ATPROTO-CHALLENGE
 * wire types, the PLAIN payload) come from @freeq/protocol, which the server shares (#15).
 */
export {
  AuthenticateAssembler, base64UrlDecode, base64UrlEncode, chunkAuthenticate, decodeChallenge, encodeResponse, plainPayload, SASL_CHUNK_SIZE,
  type AtprotoChallenge, type AtprotoMethod, type AtprotoResponse,
} from '@freeq/protocol';
