/**
 * @freeq/sdk — placeholder. The client SDK (connect, CAP, SASL ATPROTO-CHALLENGE) arrives with
 * the Bluesky identity issue; until then use any IRC client library (e.g. irc-framework).
 */
export const SDK_VERSION = '0.1.0';
