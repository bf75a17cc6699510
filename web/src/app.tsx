import { useEffect, useRef, useState } from 'preact/hooks';
import { FreeqClient, signingKeysFrom, venueOf, verifySignature, type HistoryMessage, type MessageEvent, type SigningKeys } from '@freeq/sdk/browser';
import { applyLine, fromNames, sorted, type Member, type Members } from './members.js';
import { parseInput } from './commands.js';

/** One line of a conversation as shown. */
interface Line {
  id: string; msgid?: string; time: string; from: string; text: string; kind: 'message' | 'notice' | 'event' | 'action' | 'error'; mention?: boolean;
  /** the DID the server's signature vouches for (verified here against its published keys) */
  signedBy?: string;
}
interface Conversation { name: string; lines: Line[]; unread: number; mentions: number; topic: string; oldest?: string; more: boolean }

/** `text` names `nick` as a word (case-insensitive): a mention */
const mentions = (text: string, nick: string): boolean => new RegExp(`(^|[^\\w-])${nick.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}($|[^\\w-])`, 'i').test(text);

/** The server this page came from: its IRC WebSocket endpoint. */
const wsUrl = (): string => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/irc`;
const timeOf = (t?: string): string => (t ? new Date(t) : new Date()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
let seq = 0;
/** CTCP ACTION (`/me`): shown as `* nick text` */
// eslint-disable-next-line no-control-regex -- CTCP is framed by \x01 (the IRC convention)
const ACTION = /^\x01ACTION (.*?)\x01?$/;
const lineOf = (m: MessageEvent | HistoryMessage, kind: Line['kind']): Line => {
  const action = ACTION.exec(m.text);
  return {
    id: m.tags.msgid ?? `l${++seq}`, ...(m.tags.msgid ? { msgid: m.tags.msgid } : {}), time: timeOf(m.tags.time), from: m.from,
    text: action ? action[1]! : m.text, kind: action ? 'action' : kind,
  };
};

export function App() {
  const [client, setClient] = useState<FreeqClient | undefined>();
  const [status, setStatus] = useState('');
  const [convs, setConvs] = useState<Map<string, Conversation>>(new Map());
  const [current, setCurrent] = useState<string | undefined>();
  const [members, setMembers] = useState<Members>(new Map());
  /** channel (lower-cased) → nick → when its typing notice lapses (IRCv3 +typing: 6 s after active) */
  const [typing, setTyping] = useState<Map<string, Map<string, number>>>(new Map());
  const setTypist = (channel: string, nick: string, until: number | undefined): void => setTyping((all) => {
    const key = channel.toLowerCase();
    const list = new Map(all.get(key));
    if (until === undefined) { if (!list.delete(nick)) return all; } else list.set(nick, until);
    return new Map(all).set(key, list);
  });
  useEffect(() => {
    const t = setInterval(() => setTyping((all) => {
      const now = Date.now();
      let changed = false;
      const next = new Map<string, Map<string, number>>();
      for (const [k, l] of all) {
        const kept = new Map([...l].filter(([, until]) => until > now));
        if (kept.size !== l.size) changed = true;
        next.set(k, kept);
      }
      return changed ? next : all;
    }), 1000);
    return () => clearInterval(t);
  }, []);
  const currentRef = useRef<string | undefined>(undefined);
  /** the sender's DID when a message's signature checks out (set at login: the server's keys) */
  const signerRef = useRef<(m: HistoryMessage) => string | undefined>(() => undefined);
  currentRef.current = current;

  /** change one conversation (created if new) */
  const update = (name: string, fn: (c: Conversation) => Conversation): void => setConvs((all) => {
    const key = name.toLowerCase();
    const next = new Map(all);
    next.set(key, fn(all.get(key) ?? { name, lines: [], unread: 0, mentions: 0, topic: '', more: true }));
    return next;
  });
  const add = (name: string, lines: Line[], where: 'end' | 'start' = 'end'): void => update(name, (c) => {
    const known = new Set(c.lines.map((l) => l.msgid).filter(Boolean));
    const fresh = lines.filter((l) => !l.msgid || !known.has(l.msgid));
    const away = where === 'end' && currentRef.current?.toLowerCase() !== name.toLowerCase();
    const unread = away ? c.unread + fresh.filter((l) => l.kind !== 'event').length : c.unread;
    const mentioned = away ? c.mentions + fresh.filter((l) => l.mention).length : c.mentions;
    return { ...c, lines: where === 'end' ? [...c.lines, ...fresh] : [...fresh, ...c.lines], unread, mentions: mentioned };
  });

  const login = async (nick: string): Promise<void> => {
    setStatus('Connecting…');
    // the server's message-signing keys: a logged-in user's messages are checked against them
    const keys: SigningKeys = await fetch('/api/v1/signing-key').then((r) => r.json() as Promise<{ public_key?: unknown; previous_keys?: unknown }>).then(signingKeysFrom).catch(() => new Map());
    const c = new FreeqClient({ url: wsUrl(), nick, reconnect: true, caps: ['message-tags', 'server-time', 'account-tag', 'extended-join', 'batch', 'labeled-response', 'draft/chathistory', 'echo-message'] });
    /** the sender's DID when the server's signature of this message checks out */
    const signer = (m: MessageEvent | HistoryMessage): string | undefined => {
      const did = m.tags.account;
      const msgid = m.tags.msgid;
      const venue = did ? venueOf(m.target, did, c.did) : undefined;
      return did && msgid && venue && verifySignature(m.tags['+freeq.at/sig'], { from: did, msgid, target: venue, body: m.text, tags: m.tags }, keys) ? did : undefined;
    };
    const withSigner = (l: Line, m: MessageEvent | HistoryMessage): Line => { const did = signer(m); return did ? { ...l, signedBy: did } : l; };
    signerRef.current = signer;
    // a message that names this user (not one of its own) is a mention: highlighted, counted apart
    const live = (m: MessageEvent, kind: Line['kind']): Line => withSigner({ ...lineOf(m, kind), ...(m.from !== c.nick && (!m.isChannel || mentions(m.text, c.nick)) ? { mention: true } : {}) }, m);
    c.on('message', (m) => {
      add(m.isChannel ? m.target : m.from === c.nick ? m.target : m.from, [live(m, 'message')]);
      if (m.isChannel) setTypist(m.target, m.from, undefined);
    });
    c.on('tagmsg', (t) => {
      const state = t.tags['+typing'];
      if (!t.isChannel || t.from === c.nick || state === undefined) return;
      setTypist(t.target, t.from, state === 'active' ? Date.now() + 6000 : state === 'paused' ? Date.now() + 30_000 : undefined);
    });
    c.on('notice', (m) => { if (m.isChannel) add(m.target, [live(m, 'notice')]); });
    c.on('history', (m) => add(m.target.startsWith('#') ? m.target : m.from, [withSigner(lineOf(m, m.command === 'NOTICE' ? 'notice' : 'message'), m)]));
    c.on('join', (ev) => {
      const key = ev.channel.toLowerCase();
      if (!ev.self) {
        add(ev.channel, [{ id: `l${++seq}`, time: timeOf(), from: ev.nick, text: 'joined', kind: 'event' }]);
        setMembers((all) => {
          const next = new Map(all);
          const list = new Map(all.get(key));
          list.set(ev.nick.toLowerCase(), { nick: ev.nick, prefix: '', ...(ev.account ? { account: ev.account } : {}) });
          next.set(key, list);
          return next;
        });
        return;
      }
      update(ev.channel, (conv) => ({ ...conv, name: ev.channel }));
      setCurrent(ev.channel);
      void c.request('NAMES', [ev.channel]).then((lines) => setMembers((all) => new Map(all).set(key, fromNames(lines)))).catch(() => {});
      void c.history(ev.channel, { limit: 100 }).then((h) => {
        add(ev.channel, h.map((m) => withSigner(lineOf(m, 'message'), m)), 'start');
        update(ev.channel, (conv) => ({ ...conv, oldest: h[0]?.msgid ?? conv.oldest, more: h.length === 100 }));
      }).catch(() => {});
    });
    c.on('part', (ev) => {
      if (ev.self) {
        // this user left: the conversation goes; another one is shown
        const key = ev.channel.toLowerCase();
        setConvs((all) => {
          const next = new Map(all);
          next.delete(key);
          setCurrent((cur) => (cur?.toLowerCase() === key ? [...next.values()][0]?.name : cur));
          return next;
        });
        return;
      }
      add(ev.channel, [{ id: `l${++seq}`, time: timeOf(), from: ev.nick, text: 'left', kind: 'event' }]);
      setMembers((all) => {
        const next = new Map(all);
        const list = new Map(all.get(ev.channel.toLowerCase()));
        list.delete(ev.nick.toLowerCase());
        next.set(ev.channel.toLowerCase(), list);
        return next;
      });
    });
    c.on('raw', (_line, m) => {
      if (!m) return;
      if (m.command === '332' || m.command === 'TOPIC') update(m.params[m.command === '332' ? 1 : 0] ?? '', (conv) => ({ ...conv, topic: m.params.at(-1) ?? '' }));
      setMembers((all) => applyLine(all, m) ?? all);
      // the server refused something (a 4xx/5xx numeric, or FAIL): said where the user is looking
      if (c.registered && m.command !== '422' /* no MOTD: not a refusal */ && (/^[45]\d\d$/.test(m.command) || m.command === 'FAIL')) {
        const where = currentRef.current;
        const text = m.command === 'FAIL' ? m.params.at(-1) ?? 'failed' : `${m.params.slice(1, -1).join(' ')} ${m.params.at(-1) ?? ''}`.trim();
        if (where) add(where, [{ id: `l${++seq}`, time: timeOf(), from: '', text, kind: 'error' }]);
        else setStatus(text);
      }
    });
    c.on('close', ({ reason }) => setStatus(`Disconnected${reason ? `: ${reason}` : ''}. Reconnecting…`));
    c.on('reconnected', () => setStatus(''));
    try {
      await c.connect();
      setStatus('');
      setClient(c);
    } catch (e) {
      setStatus(`Could not connect: ${(e as Error).message}`);
    }
  };

  if (!client) return <Login onLogin={login} status={status} />;
  const conv = current ? convs.get(current.toLowerCase()) : undefined;
  const older = async (): Promise<void> => {
    if (!conv?.oldest || !conv.more) return;
    const h = await client.history(conv.name, { before: conv.oldest, limit: 100 });
    add(conv.name, h.map((m) => { const l = lineOf(m, 'message'); const did = signerRef.current(m); return did ? { ...l, signedBy: did } : l; }), 'start');
    update(conv.name, (x) => ({ ...x, oldest: h[0]?.msgid ?? x.oldest, more: h.length === 100 }));
  };
  /** a line typed in `where`'s message box: a message, or a /command (commands.ts) */
  const run = (where: string, text: string): void => {
    const a = parseInput(text);
    const note = (t: string): void => add(where, [{ id: `l${++seq}`, time: timeOf(), from: '', text: t, kind: 'error' }]);
    switch (a.kind) {
      case 'say': client.privmsg(where, a.text); break;
      case 'me': client.privmsg(where, `\x01ACTION ${a.text}\x01`); break;
      case 'join': client.join(a.channel, a.key); break;
      case 'part': {
        const ch = a.channel ?? where;
        if (!/^[#&]/.test(ch)) { note('/part leaves a channel'); break; }
        client.part(ch, a.reason); // the conversation goes when the server confirms (the part event)
        break;
      }
      case 'msg': client.privmsg(a.target, a.text); update(a.target, (c) => c); setCurrent(a.target); break;
      case 'nick': client.send('NICK', a.nick); break;
      case 'topic': if (a.text) client.send('TOPIC', where, a.text); else client.send('TOPIC', where); break;
      case 'raw': client.raw(a.line); break;
      case 'error': note(a.text); break;
    }
  };
  const names = [...convs.values()].map((c) => c.name);
  /** Alt+↑ / Alt+↓: the previous / next conversation (keyboard navigation) */
  const onKey = (e: KeyboardEvent): void => {
    if (!e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') || names.length === 0) return;
    e.preventDefault();
    const i = Math.max(0, names.findIndex((n) => n === current));
    const to = names[(i + (e.key === 'ArrowUp' ? names.length - 1 : 1)) % names.length]!;
    setCurrent(to);
    update(to, (x) => ({ ...x, unread: 0, mentions: 0 }));
  };
  return (
    <div class="chat" onKeyDown={onKey}>
      <nav class="sidebar" aria-label="Conversations">
        <div class="me">{client.nick}</div>
        <ul>
          {[...convs.values()].map((c) => (
            <li key={c.name}>
              <button type="button" aria-current={c.name === current ? 'true' : undefined} onClick={() => { setCurrent(c.name); update(c.name, (x) => ({ ...x, unread: 0, mentions: 0 })); }}>
                {c.name}
                {c.mentions > 0 && <span class="mentions" aria-label={`${c.mentions} ${c.mentions === 1 ? 'mention' : 'mentions'}`}>@{c.mentions}</span>}
                {c.unread > 0 && <span class="unread" aria-label={`${c.unread} unread`}>{c.unread}</span>}
              </button>
            </li>
          ))}
        </ul>
        <JoinForm onJoin={(ch) => client.join(ch)} />
      </nav>
      <main class="main">
        {status && <p class="status" role="status">{status}</p>}
        {conv ? (
          <Conversation conv={conv} onOlder={older} onSend={(text) => run(conv.name, text)} onLeave={() => run(conv.name, '/part')}
            typists={[...(typing.get(conv.name.toLowerCase())?.keys() ?? [])]}
            onTyping={(state) => client.tagmsg(conv.name, { '+typing': state })} />
        ) : <p class="hint">Join a channel to start.</p>}
      </main>
      {conv && conv.name.startsWith('#') && <MemberList channel={conv.name} members={sorted(members.get(conv.name.toLowerCase()))} />}
    </div>
  );
}

function Login({ onLogin, status }: { onLogin: (nick: string) => Promise<void>; status: string }) {
  const [nick, setNick] = useState('');
  return (
    <form class="login" onSubmit={(e) => { e.preventDefault(); if (nick.trim()) void onLogin(nick.trim()); }}>
      <h1>freeq</h1>
      <label for="nick">Nickname</label>
      <input id="nick" value={nick} onInput={(e) => setNick((e.target as HTMLInputElement).value)} autoComplete="nickname" maxLength={30} required />
      <button type="submit">Join as guest</button>
      {status && <p role="status">{status}</p>}
    </form>
  );
}

function JoinForm({ onJoin }: { onJoin: (channel: string) => void }) {
  const [name, setName] = useState('#freeq');
  return (
    <form class="join" onSubmit={(e) => { e.preventDefault(); const n = name.trim(); if (n) onJoin(n.startsWith('#') ? n : `#${n}`); }}>
      <label for="join">Join a channel</label>
      <input id="join" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      <button type="submit">Join</button>
    </form>
  );
}

function Conversation({ conv, onOlder, onSend, onLeave, typists, onTyping }: {
  conv: Conversation; onOlder: () => Promise<void>; onSend: (text: string) => void; onLeave: () => void; typists: string[]; onTyping: (state: 'active' | 'done') => void;
}) {
  const [text, setText] = useState('');
  /** when `active` was last sent: at most every 3 s (IRCv3 typing) */
  const lastActive = useRef(0);
  const edit = (value: string): void => {
    setText(value);
    if (value && Date.now() - lastActive.current > 3000) { lastActive.current = Date.now(); onTyping('active'); }
    if (!value && lastActive.current) { lastActive.current = 0; onTyping('done'); }
  };
  const log = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  useEffect(() => { if (atBottom.current && log.current) log.current.scrollTop = log.current.scrollHeight; }, [conv.lines.length, conv.name]);
  return (
    <section class="conversation" aria-label={conv.name}>
      <header>
        <h2>{conv.name}</h2>
        {conv.name.startsWith('#') && <button type="button" class="leave" onClick={onLeave}>Leave</button>}
        {conv.topic && <p class="topic">{conv.topic}</p>}
      </header>
      <div class="log" role="log" aria-live="polite" ref={log}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          if (el.scrollTop === 0) void onOlder();
        }}>
        {conv.lines.map((l) => (
          // few nodes per line: a log of 10,000 lines stays within the tab's memory budget (bench/web-client.mjs)
          <div key={l.id} class={`line ${l.kind}${l.mention ? ' mention' : ''}`}>
            <time>{l.time}</time><b>{l.kind === 'event' ? `${l.from} ${l.text}` : l.kind === 'action' ? `* ${l.from}` : l.from}</b>
            {l.signedBy && <span class="signed" role="img" aria-label={`signed for ${l.signedBy}`} title={`signed by the server for ${l.signedBy}`}>✓</span>}
            {l.kind === 'event' ? '' : l.text}
          </div>
        ))}
      </div>
      <p class="typing" aria-live="polite">{typists.length === 0 ? '' : `${typists.slice(0, 3).join(', ')}${typists.length > 3 ? ' and others' : ''} ${typists.length === 1 ? 'is' : 'are'} typing…`}</p>
      <form class="input" onSubmit={(e) => { e.preventDefault(); if (text) { onSend(text); setText(''); lastActive.current = 0; } }}>
        <label for="message" class="sr-only">Message {conv.name}</label>
        <input id="message" value={text} onInput={(e) => edit((e.target as HTMLInputElement).value)} placeholder={`Message ${conv.name}`} autoComplete="off" />
        <button type="submit">Send</button>
      </form>
    </section>
  );
}

function MemberList({ channel, members }: { channel: string; members: Member[] }) {
  return (
    <aside class="members" aria-label={`Members of ${channel}`}>
      <h3>{members.length} {members.length === 1 ? 'member' : 'members'}</h3>
      <ul>
        {members.map((m) => (
          <li key={m.nick} title={m.account ? `logged in as ${m.account}` : 'guest'}>
            <span class="prefix" aria-label={m.prefix.startsWith('@') ? 'operator' : m.prefix.startsWith('+') ? 'voiced' : undefined}>{m.prefix.slice(0, 1)}</span>{m.nick}
            {m.account && <span class="did" aria-label="Bluesky identity"> ✓</span>}
          </li>
        ))}
      </ul>
    </aside>
  );
}
