/**
 * IRC lines for the client: parsing and building come from @freeq/protocol (the same code the
 * server and the web client use; #15). Lenient where a client must be: a line the server sends
 * that is not a message is skipped, never thrown on.
 */
export { buildLine, nickOf, parseMessage, type IrcMessage } from '@freeq/protocol';
