/**
 * A refusal that maps to one numeric reply: `:<server> <code> <nick> <params...> :<text>`.
 * Thrown by state/ops authorization and by command handlers; the dispatcher turns it into the
 * reply, so handlers stay linear.
 */
export class ReplyError extends Error {
  constructor(readonly code: string, readonly params: string[], readonly text: string) {
    super(`${code} ${params.join(' ')} :${text}`);
  }
}
