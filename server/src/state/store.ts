import type { Channel, ChannelStamps, DidGrant, ListEntry, ListMode } from './channel.js';
import type { Stamp } from './hlc.js';

/** Persistence port for channel state; implemented in storage/repos/channels.ts. */
export interface PersistedChannel {
  name: string;
  createdAt: number;
  topic?: { text: string; setBy: string; setAt: number };
  modes: string; // flag letters, e.g. "nt"
  key?: string;
  limit?: number;
  lists: Record<ListMode, ListEntry[]>;
  /** list entries removed, with the removal's stamp (tombstones: state/channel-sync.ts) */
  listRemoved?: Record<ListMode, Array<{ mask: string; stamp: Stamp }>>;
  /** DID of the founder */
  founder?: string;
  didOps: Array<{ did: string } & DidGrant>;
  /** oldest first */
  didInvites: Array<{ did: string } & DidGrant>;
  /** when the channel (without founder) was left empty; undefined if it had members at shutdown */
  emptySince?: number;
  /** #13: the HLC stamp and origin of each register's last change (absent: not stamped yet) */
  stamps?: ChannelStamps;
}

export interface ChannelStore {
  loadAll(): PersistedChannel[];
  /** upsert name, topic, modes, key, limit, founder, emptySince and the registers' stamps */
  saveChannel(ch: Channel): void;
  deleteChannel(folded: string): void;
  /** add, or update the stamp of, an entry (clears no tombstone: removeListTombstone does) */
  addListEntry(ch: Channel, mode: ListMode, e: ListEntry): void;
  removeListEntry(ch: Channel, mode: ListMode, mask: string): void;
  /** a removed entry's tombstone, with the removal's stamp (upsert) */
  setListTombstone(ch: Channel, mode: ListMode, mask: string, stamp: Stamp): void;
  removeListTombstone(ch: Channel, mode: ListMode, mask: string): void;
  addDidOp(ch: Channel, did: string, grant: DidGrant): void;
  removeDidOp(ch: Channel, did: string): void;
  addDidInvite(ch: Channel, did: string, grant: DidGrant): void;
  removeDidInvite(ch: Channel, did: string): void;
}

/**
 * A DID's account row: the nick it owns (if any), when it claimed it (an HLC stamp; none for a
 * claim from before #14: the earliest), and its last known handle.
 */
export interface PersistedAccount { did: string; nick?: string; nickClaimed?: string; handle?: string; lastLoginAt: number }

/** Persistence port for accounts (nick ownership); implemented in storage/repos/accounts.ts. */
export interface AccountStore {
  loadAll(): PersistedAccount[];
  /**
   * Upsert the account. `nick` undefined keeps the stored nick (and its claim stamp), null
   * releases it; `handle` undefined keeps the stored handle, null clears it (a login whose handle
   * did not verify, #12). The caller guarantees that, once the write is done, no other DID owns
   * the nick (nick_folded is UNIQUE; a nick may move from one DID to another in one batch).
   */
  save(a: { did: string; nick?: string | null; nickFolded?: string; nickClaimed?: string; handle?: string | null; lastLoginAt: number }): void;
}
