import { serialize, type IrcMessage } from '@freeq/protocol';

// serialize() is shared with the SDK and the web client (@freeq/protocol, #15); the bytes on the
// wire are the server's.
export { serialize };

/** Serialize with CRLF as bytes. CR/LF/NUL in any field would allow line injection: strip them. */
export function toWire(m: IrcMessage): Buffer {
  return Buffer.from(serialize(m).replace(/[\r\n\0]/g, ' ') + '\r\n', 'utf8');
}

/**
 * Bytes of the line `:<source> <command> <params…>` as it is relayed, CRLF included and tags left
 * out (they have their own budget): exactly what serialize() writes, so the last parameter has
 * its ':' only when it needs one. Checking against a hand-built `… :<text>` counted a ':' the
 * wire does not carry when the text has no space, and refused lines of exactly 512 bytes (#16).
 */
export function relayedBytes(source: string, command: string, params: readonly string[]): number {
  return Buffer.byteLength(serialize({ tags: new Map(), source, command, params: [...params] })) + 2;
}
