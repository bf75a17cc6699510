import { serialize, type IrcMessage } from '@freeq/protocol';

// serialize() is shared with the SDK and the web client (@freeq/protocol, #15); the bytes on the
// wire are the server's.
export { serialize };

/** Serialize with CRLF as bytes. CR/LF/NUL in any field would allow line injection: strip them. */
export function toWire(m: IrcMessage): Buffer {
  return Buffer.from(serialize(m).replace(/[\r\n\0]/g, ' ') + '\r\n', 'utf8');
}
