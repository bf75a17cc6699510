import { useEffect, useState } from 'preact/hooks';
import type { IrcMessage } from '@freeq/sdk/browser';

/** one row of LIST (322 RPL_LIST: `<me> <channel> <visible users> :<topic>`) */
export interface ListedChannel { name: string; users: number; topic: string }

/** The 322 lines of a LIST answer, most users first (secret channels are never listed by the server). */
export function channelsFromList(lines: IrcMessage[]): ListedChannel[] {
  return lines
    .filter((m) => m.command === '322' && m.params.length >= 3)
    .map((m) => ({ name: m.params[1]!, users: Number(m.params[2]) || 0, topic: m.params[3] ?? '' }))
    .sort((a, b) => b.users - a.users || a.name.localeCompare(b.name));
}

/** The channels of the server (LIST), to filter and join. */
export function ChannelList({ list, onJoin, onClose }: { list: () => Promise<IrcMessage[]>; onJoin: (channel: string) => void; onClose: () => void }) {
  const [channels, setChannels] = useState<ListedChannel[] | undefined>();
  const [problem, setProblem] = useState('');
  const [filter, setFilter] = useState('');
  useEffect(() => { list().then((l) => setChannels(channelsFromList(l)), (e: unknown) => setProblem(`The list could not be fetched: ${(e as Error).message}`)); }, []);
  const f = filter.trim().toLowerCase();
  const shown = (channels ?? []).filter((c) => !f || c.name.toLowerCase().includes(f) || c.topic.toLowerCase().includes(f));
  return (
    <section class="channel-list" aria-label="Channels on this server">
      <header>
        <h2>Channels</h2>
        <button type="button" onClick={onClose}>Close</button>
      </header>
      <label for="channel-filter" class="sr-only">Filter channels</label>
      <input id="channel-filter" value={filter} placeholder="Filter by name or topic" onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      {problem && <p role="status">{problem}</p>}
      {!channels && !problem && <p role="status">Loading…</p>}
      {channels && shown.length === 0 && <p>No channel{f ? ' matches' : ' yet: join one by name to create it'}.</p>}
      <ul>
        {shown.slice(0, 500).map((c) => (
          <li key={c.name}>
            <button type="button" onClick={() => onJoin(c.name)} aria-label={`Join ${c.name}, ${c.users} ${c.users === 1 ? 'user' : 'users'}`}>
              <b>{c.name}</b> <span class="users">{c.users}</span>
            </button>
            {c.topic && <p class="topic">{c.topic}</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}
