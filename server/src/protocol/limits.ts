// modern.ircdocs.horse: 512 bytes including CRLF for everything after the tag section.
export const MAX_BODY_BYTES = 512;
// IRCv3 message-tags "Size limit": clients MUST NOT send more than 4094 bytes of tag data
// (4096 with the leading '@' and the trailing space).
export const MAX_CLIENT_TAG_DATA_BYTES = 4094;
// Servers MUST NOT add more than 4094 bytes; whole tag section <= 8191 bytes.
export const MAX_SERVER_TAG_SECTION_BYTES = 8191;
/** readQ: the longest line we buffer before declaring overflow (hardening.md B1). */
export const DEFAULT_READQ_BYTES = 8191 + 512;
