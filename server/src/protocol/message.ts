// An IRC message as data: shared with the SDK and the web client (@freeq/protocol, #15).
export { msg, type IrcMessage } from '@freeq/protocol';
