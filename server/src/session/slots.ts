/**
 * Typed per-session state slots (#13): state another layer keeps for one connection (the SASL
 * exchange, the per-command rate limits, a guest's read markers, open client batches…) lives on
 * the Session itself (Session.slot), so it goes away with the connection and nothing is keyed by
 * a module-level WeakMap.
 *
 * A slot is a key: declare one at module level (`const SASL = new SessionSlot<SaslState>('sasl')`;
 * a key is not state) and read or create the value with `session.slot(SASL, () => new SaslState(…))`.
 * The value is created on first use only, so an idle connection pays for none.
 */
export class SessionSlot<T> {
  /** carries T (compile time only) */
  declare private readonly _value: T;

  /** `name` is for debugging only: the object itself is the key */
  constructor(readonly name: string) {}
}
