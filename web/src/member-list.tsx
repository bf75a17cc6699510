import type { Member } from './members.js';

/**
 * A channel's members: operators (`@`) and voiced (`+`) first; a ✓ for each member logged in
 * (WHOX on join, extended-join, account-notify), its account on hover and for screen readers.
 */
export function MemberList({ channel, members }: { channel: string; members: Member[] }) {
  return (
    <aside class="members" aria-label={`Members of ${channel}`}>
      <h3>{members.length} {members.length === 1 ? 'member' : 'members'}</h3>
      <ul>
        {members.map((m) => (
          <li key={m.nick} title={m.account ? `logged in as ${m.account}` : 'guest'}>
            <span class="prefix" aria-label={m.prefix.startsWith('@') ? 'operator' : m.prefix.startsWith('+') ? 'voiced' : undefined}>{m.prefix.slice(0, 1)}</span>{m.nick}
            {m.account && <span class="did" role="img" aria-label={`logged in as ${m.account}`} title={m.account}> ✓</span>}
          </li>
        ))}
      </ul>
    </aside>
  );
}
