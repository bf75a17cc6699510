/**
 * The audit log's port (#14, docs/federation.md "Audit log"): federation/peers.ts records, the
 * storage layer keeps (storage/repos/s2s-audit.ts, which imports this type only).
 */
/** One verified envelope for the audit log. */
export interface AuditRecord {
  at: number;
  via: string;
  origin: string;
  seq: number;
  hlc: string;
  kind: string;
  outcome: 'applied' | 'refused';
  reason?: string;
  /** the envelope as received, signature included (JSON) */
  envelope: string;
}

