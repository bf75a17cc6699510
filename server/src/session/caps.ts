/**
 * Capabilities we advertise. Each is implemented end to end (nothing advertised is a stub):
 * message-tags / server-time / account-tag / batch / labeled-response are applied in
 * session/outgoing.ts and reply-buffer.ts; the notify caps in session/fanout.ts; draft/multiline
 * in commands/multiline.ts + batch.ts (its value here is the default; advertisedCaps() puts the
 * configured multiline-max-bytes / multiline-max-lines in it); extended-monitor in session/monitor.ts.
 */
export const CAPABILITIES: ReadonlyArray<{ name: string; value?: string }> = [
  { name: 'account-notify' },
  { name: 'account-tag' },
  { name: 'away-notify' },
  { name: 'batch' },
  { name: 'cap-notify' },
  { name: 'chghost' },
  { name: 'draft/chathistory' },
  { name: 'draft/event-playback' },
  // #16: REDACT (commands/redact.ts, state/redact-ops.ts); REDACTs reach only clients with it
  { name: 'draft/message-redaction' },
  { name: 'draft/multiline', value: 'max-bytes=40000,max-lines=100' },
  { name: 'draft/read-marker' },
  { name: 'echo-message' },
  { name: 'extended-join' },
  { name: 'extended-monitor' },
  { name: 'invite-notify' },
  { name: 'labeled-response' },
  { name: 'message-tags' },
  { name: 'multi-prefix' },
  { name: 'server-time' },
  { name: 'setname' },
  { name: 'standard-replies' },
  { name: 'userhost-in-names' },
];

export const CAP_NAMES = new Set(CAPABILITIES.map((c) => c.name));

/**
 * `sasl` depends on configuration, so it is not in CAPABILITIES: advertised only when
 * `sasl-mechanisms` is non-empty, with the mechanism list as its value for CAP 302 clients
 * (IRCv3 sasl-3.2: `sasl=ATPROTO-CHALLENGE,PLAIN`). Implemented in commands/authenticate.ts.
 */
export const SASL_CAP = 'sasl';

/** Everything this server advertises with its configuration, sorted by name. */
export function advertisedCaps(config: { saslMechanisms: readonly string[]; multilineMaxBytes: number; multilineMaxLines: number }): Array<{ name: string; value?: string }> {
  const caps: Array<{ name: string; value?: string }> = CAPABILITIES.map((c) => (c.name === 'draft/multiline'
    ? { name: c.name, value: `max-bytes=${config.multilineMaxBytes},max-lines=${config.multilineMaxLines}` }
    : c));
  if (config.saslMechanisms.length > 0) caps.push({ name: SASL_CAP, value: config.saslMechanisms.join(',') });
  return caps.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `name` can be requested with CAP REQ under this configuration. */
export function isAdvertised(config: { saslMechanisms: readonly string[] }, name: string): boolean {
  return CAP_NAMES.has(name) || (name === SASL_CAP && config.saslMechanisms.length > 0);
}
