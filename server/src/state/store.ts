import type { Channel, ListEntry, ListMode } from './channel.js';

/** Persistence port for channel state; implemented in storage/repos/channels.ts. */
export interface PersistedChannel {
  name: string;
  createdAt: number;
  topic?: { text: string; setBy: string; setAt: number };
  modes: string; // flag letters, e.g. "nt"
  key?: string;
  limit?: number;
  lists: Record<ListMode, ListEntry[]>;
}

export interface ChannelStore {
  loadAll(): PersistedChannel[];
  /** upsert name, topic, modes, key, limit */
  saveChannel(ch: Channel): void;
  deleteChannel(folded: string): void;
  addListEntry(ch: Channel, mode: ListMode, e: ListEntry): void;
  removeListEntry(ch: Channel, mode: ListMode, mask: string): void;
}
