/**
 * Capabilities we advertise. Each is implemented end to end (nothing advertised is a stub):
 * message-tags / server-time / account-tag / batch / labeled-response are applied in
 * session/outgoing.ts and reply-buffer.ts; the notify caps in session/fanout.ts.
 */
export const CAPABILITIES: ReadonlyArray<{ name: string; value?: string }> = [
  { name: 'account-notify' },
  { name: 'account-tag' },
  { name: 'away-notify' },
  { name: 'batch' },
  { name: 'cap-notify' },
  { name: 'chghost' },
  { name: 'echo-message' },
  { name: 'extended-join' },
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
