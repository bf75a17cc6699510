// IRCv3 message-tags escaping and the tag key grammar: shared with the SDK and the web client
// (@freeq/protocol, #15); this module keeps the server's import path.
export { escapeTagValue, isClientOnlyTag, isValidTagKey, serializeTags, unescapeTagValue } from '@freeq/protocol';
