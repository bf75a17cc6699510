import { useEffect, useRef, useState } from 'preact/hooks';
import { FreeqClient, nickOf, signingKeysFrom, venueOf, verifySignature, type HistoryMessage, type MessageEvent, type SigningKeys } from '@freeq/sdk/browser';
import { accountsFromWhox, applyLine, fromNames, sorted, withAccounts, WHOX_TOKEN, type Members } from './members.js';
import { parseInput } from './commands.js';
import { emptyConversation, lineOf, localLine, mentions, newestAt, redactedIn, unreadSince, type Conversation as Conv, type Line } from './lines.js';
import { browserStore, loadSaved, storeSaved, withChannel, withoutChannel, type Saved } from './saved.js';
import { Conversation } from './conversation.js';
import { MemberList } from './member-list.js';
import { Login } from './login.js';
import { ChannelList } from './channel-list.js';
import { loginErrorFromAddress, loginToken, logout as endWebSession, startBlueskyLogin, type WebLogin } from './auth.js';

/** The server this page came from: its IRC WebSocket endpoint. */
const wsUrl = (): string => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/irc`;
/** what the page asks the server for (IRCv3), when offered */
const CAPS = [
  'message-tags', 'server-time', 'account-tag', 'extended-join', 'account-notify', 'batch', 'labeled-response', 'draft/chathistory', 'echo-message',
  'draft/multiline', 'draft/read-marker', 'draft/message-redaction',
];
const isChannel = (target: string): boolean => /^[#&]/.test(target);
const store = browserStore();

export function App() {
  const [client, setClient] = useState<FreeqClient | undefined>();
  const [status, setStatus] = useState('');
  /** the channel list (LIST) is shown instead of a conversation */
  const [browsing, setBrowsing] = useState(false);
  /** the Bluesky handle logged in with (display) */
  const [handle, setHandle] = useState<string | undefined>();
  const [convs, setConvs] = useState<Map<string, Conv>>(new Map());
  const [current, setCurrent] = useState<string | undefined>();
  const [members, setMembers] = useState<Members>(new Map());
  const [visible, setVisible] = useState(document.visibilityState !== 'hidden');
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
  currentRef.current = current;
  const convsRef = useRef(convs);
  convsRef.current = convs;
  /** the sender's DID when a message's signature checks out (set at login: the server's keys) */
  const signerRef = useRef<(m: HistoryMessage) => string | undefined>(() => undefined);
  /** what a reload restores (saved.ts): the guest nick, the channels, the conversation shown */
  const saved = useRef<Saved | undefined>(loadSaved(store));
  /** channels being rejoined after a reload, and the one that was shown: the others do not take the view */
  const restoring = useRef({ channels: new Set<string>(), shown: '' });
  const connecting = useRef(false);
  const keep = (fn: (s: Saved) => Saved): void => {
    if (!saved.current) return;
    saved.current = fn(saved.current);
    storeSaved(store, saved.current);
  };
  const shownNow = (name: string): boolean => currentRef.current?.toLowerCase() === name.toLowerCase();

  /** change one conversation (created if new) */
  const update = (name: string, fn: (c: Conv) => Conv): void => setConvs((all) => {
    const key = name.toLowerCase();
    return new Map(all).set(key, fn(all.get(key) ?? emptyConversation(name)));
  });
  const add = (name: string, lines: Line[], where: 'end' | 'start' = 'end'): void => update(name, (c) => {
    const known = new Set(c.lines.map((l) => l.msgid).filter(Boolean));
    const fresh = lines.filter((l) => !l.msgid || !known.has(l.msgid));
    const away = where === 'end' && !shownNow(name);
    const unread = away ? c.unread + fresh.filter((l) => l.kind !== 'event').length : c.unread;
    const mentioned = away ? c.mentions + fresh.filter((l) => l.mention).length : c.mentions;
    return { ...c, lines: where === 'end' ? [...c.lines, ...fresh] : [...fresh, ...c.lines], unread, mentions: mentioned };
  });

  useEffect(() => {
    const seen = (): void => setVisible(document.visibilityState !== 'hidden');
    document.addEventListener('visibilitychange', seen);
    return () => document.removeEventListener('visibilitychange', seen);
  }, []);
  // back from the Bluesky login (#login=ok), or a reload of a page that was logged in: a login token
  // for the session cookie; a reload of a guest's page: the same nick again (login rejoins its channels)
  useEffect(() => {
    const failed = loginErrorFromAddress();
    if (failed) { setStatus(failed); return; }
    const back = location.hash === '#login=ok';
    if (back) history.replaceState(null, '', location.pathname + location.search);
    if (back || saved.current?.bluesky) {
      void loginToken().then((web) => {
        if (web) void login(saved.current?.bluesky ? saved.current.nick : web.nick, web);
        else if (saved.current?.bluesky) { storeSaved(store, undefined); saved.current = undefined; setStatus('Your Bluesky login has ended. Please log in again.'); }
      }).catch((e: unknown) => setStatus(`Could not reach the server: ${(e as Error).message}`));
    } else if (saved.current) void login(saved.current.nick);
  }, []);
  // the conversation shown is kept for a reload
  useEffect(() => { if (client && current) keep((s) => ({ ...s, current })); }, [client, current]);
  // draft/read-marker: the conversation shown (in a page that is seen) is read up to its newest line
  const shown = current ? convs.get(current.toLowerCase()) : undefined;
  const readUpTo = shown && visible ? newestAt(shown.lines) : undefined;
  useEffect(() => { if (client && shown && readUpTo) client.markRead(shown.name, readUpTo); }, [client, shown?.name, readUpTo]);

  /** connect as a guest, or (`web`: after a Bluesky login) logged in with single-use login tokens */
  const login = async (nick: string, web?: WebLogin): Promise<void> => {
    if (connecting.current) return;
    connecting.current = true;
    setStatus('Connecting…');
    // the server's message-signing keys: a logged-in user's messages are checked against them
    const keys: SigningKeys = await fetch('/api/v1/signing-key').then((r) => r.json() as Promise<{ public_key?: unknown; previous_keys?: unknown }>).then(signingKeysFrom).catch(() => new Map());
    let first: string | undefined = web?.token;
    /** the token fetched with the login for the first connection; a fresh one for every reconnection */
    const token = async (): Promise<string> => {
      const t = first ?? (await loginToken())?.token;
      first = undefined;
      if (!t) throw new Error('the Bluesky login has ended');
      return t;
    };
    const c = new FreeqClient({
      url: wsUrl(), nick, reconnect: true, caps: CAPS,
      ...(web ? { sasl: { mechanism: 'ATPROTO-CHALLENGE', method: 'web-token', did: web.did, getToken: token }, requireSasl: true } as const : {}),
    });
    setHandle(web?.handle);
    /** the sender's DID when the server's signature of this message checks out */
    const signer = (m: MessageEvent | HistoryMessage): string | undefined => {
      const did = m.tags.account;
      const msgid = m.tags.msgid;
      const venue = did ? venueOf(m.target, did, c.did) : undefined;
      return did && msgid && venue && verifySignature(m.tags['+freeq.at/sig'], { from: did, msgid, target: venue, body: m.text, tags: m.tags }, keys) ? did : undefined;
    };
    signerRef.current = signer;
    // a message that names this user (not one of its own) is a mention: highlighted, counted apart
    const lineFor = (m: MessageEvent | HistoryMessage, kind: Line['kind']): Line => {
      const did = signer(m);
      const mention = m.from !== c.nick && (!isChannel(m.target) || mentions(m.text, c.nick));
      return { ...lineOf(m, kind), ...(did ? { signedBy: did } : {}), ...(mention ? { mention: true } : {}) };
    };
    /** after history came in: a conversation not shown counts what is newer than its read marker */
    const recount = (name: string): void => update(name, (conv) => (conv.readAt && !shownNow(name) ? { ...conv, ...unreadSince(conv.lines, conv.readAt, c.nick) } : conv));
    c.on('message', (m) => {
      add(m.isChannel ? m.target : m.from === c.nick ? m.target : m.from, [lineFor(m, 'message')]);
      if (m.isChannel) setTypist(m.target, m.from, undefined);
    });
    c.on('tagmsg', (t) => {
      const state = t.tags['+typing'];
      if (!t.isChannel || t.from === c.nick || state === undefined) return;
      setTypist(t.target, t.from, state === 'active' ? Date.now() + 6000 : state === 'paused' ? Date.now() + 30_000 : undefined);
    });
    c.on('notice', (m) => { if (m.isChannel) add(m.target, [lineFor(m, 'notice')]); });
    c.on('history', (m) => add(isChannel(m.target) ? m.target : m.from === c.nick ? m.target : m.from, [lineFor(m, m.command === 'NOTICE' ? 'notice' : 'message')]));
    // draft/message-redaction: a withdrawn message loses its text here too
    c.on('redact', (ev) => {
      const name = ev.isChannel ? ev.target : ev.from === c.nick ? ev.target : ev.from;
      setConvs((all) => {
        const conv = all.get(name.toLowerCase());
        const lines = conv && redactedIn(conv.lines, ev.msgid);
        return lines ? new Map(all).set(name.toLowerCase(), { ...conv, lines }) : all;
      });
    });
    // draft/read-marker (on JOIN, and when another session of the account reads on): the unread counts follow it
    c.on('readMarker', ({ target, time }) => {
      if (!time) return;
      setConvs((all) => {
        const key = target.toLowerCase();
        const conv = all.get(key);
        if (!conv) return all;
        return new Map(all).set(key, { ...conv, readAt: time, ...(shownNow(target) ? { unread: 0, mentions: 0 } : unreadSince(conv.lines, time, c.nick)) });
      });
    });
    c.on('join', (ev) => {
      const key = ev.channel.toLowerCase();
      if (!ev.self) {
        add(ev.channel, [localLine(ev.nick, 'joined', 'event')]);
        setMembers((all) => {
          const list = new Map(all.get(key));
          list.set(ev.nick.toLowerCase(), { nick: ev.nick, prefix: '', ...(ev.account ? { account: ev.account } : {}) });
          return new Map(all).set(key, list);
        });
        return;
      }
      keep((s) => withChannel(s, ev.channel));
      // shown: a channel the user joins; not one rejoined after a reconnect (resume.ts), nor one
      // rejoined after a reload, except the one that was shown
      const rejoined = convsRef.current.has(key);
      const restored = restoring.current.channels.delete(key);
      update(ev.channel, (conv) => ({ ...conv, name: ev.channel }));
      if (!rejoined && (!restored || restoring.current.shown === key)) setCurrent(ev.channel);
      else if (restored) setCurrent((cur) => cur ?? ev.channel);
      // who is here, then who of them is logged in (WHOX: the account of every member, `0` for a guest)
      void c.request('NAMES', [ev.channel]).then(async (lines) => {
        setMembers((all) => new Map(all).set(key, fromNames(lines)));
        const who = await c.request('WHO', [ev.channel, `%tnaf,${WHOX_TOKEN}`]);
        setMembers((all) => withAccounts(all, key, accountsFromWhox(who)));
      }).catch(() => {});
      void c.history(ev.channel, { limit: 100 }).then((h) => {
        add(ev.channel, h.map((m) => lineFor(m, 'message')), 'start');
        update(ev.channel, (conv) => ({ ...conv, oldest: h[0]?.msgid ?? conv.oldest, more: h.length === 100 }));
        recount(ev.channel);
      }).catch(() => {});
    });
    c.on('part', (ev) => {
      if (ev.self) {
        // this user left: the conversation goes (and is not rejoined after a reload); another one is shown
        keep((s) => withoutChannel(s, ev.channel));
        const key = ev.channel.toLowerCase();
        setConvs((all) => {
          const next = new Map(all);
          next.delete(key);
          setCurrent((cur) => (cur?.toLowerCase() === key ? [...next.values()][0]?.name : cur));
          return next;
        });
        return;
      }
      add(ev.channel, [localLine(ev.nick, 'left', 'event')]);
      setMembers((all) => {
        const list = new Map(all.get(ev.channel.toLowerCase()));
        list.delete(ev.nick.toLowerCase());
        return new Map(all).set(ev.channel.toLowerCase(), list);
      });
    });
    c.on('raw', (_line, m) => {
      if (!m) return;
      if (m.command === '332' || m.command === 'TOPIC') update(m.params[m.command === '332' ? 1 : 0] ?? '', (conv) => ({ ...conv, topic: m.params.at(-1) ?? '' }));
      setMembers((all) => applyLine(all, m) ?? all);
      // what a reload restores follows the nick, and a kick
      if (m.command === 'NICK' && m.params[0] && nickOf(m.source) === c.nick) { const to = m.params[0]; keep((s) => ({ ...s, nick: to })); }
      if (m.command === 'KICK' && m.params[1] === c.nick) keep((s) => withoutChannel(s, m.params[0] ?? ''));
      // the server refused something (a 4xx/5xx numeric, or FAIL): said where the user is looking
      if (c.registered && m.command !== '422' /* no MOTD: not a refusal */ && (/^[45]\d\d$/.test(m.command) || m.command === 'FAIL')) {
        const where = currentRef.current;
        const text = m.command === 'FAIL' ? m.params.at(-1) ?? 'failed' : `${m.params.slice(1, -1).join(' ')} ${m.params.at(-1) ?? ''}`.trim();
        if (where) add(where, [localLine('', text, 'error')]);
        else setStatus(text);
      }
    });
    c.on('close', ({ reason }) => { if (!c.userClosed) setStatus(`Disconnected${reason ? `: ${reason}` : ''}. Reconnecting…`); });
    c.on('reconnected', () => setStatus(''));
    try {
      await c.connect();
      setStatus('');
      setClient(c);
      // a guest's nick and channels, for a reload (saved.ts: never a secret)
      const again = saved.current?.channels ?? [];
      restoring.current = { channels: new Set(again.map((ch) => ch.toLowerCase())), shown: saved.current?.current?.toLowerCase() ?? '' };
      saved.current = { ...saved.current, nick, channels: again, ...(web ? { bluesky: true } : {}) };
      storeSaved(store, saved.current);
      for (const ch of again) c.join(ch);
    } catch (e) {
      setStatus(`Could not connect: ${(e as Error).message}`);
    } finally {
      connecting.current = false;
    }
  };

  if (!client) return <Login onGuest={(nick) => login(nick)} onBluesky={startBlueskyLogin} status={status} nick={saved.current?.bluesky ? undefined : saved.current?.nick} />;
  const conv = shown;
  /** Log out: the connection ends, and a reload no longer restores anything */
  const logout = (): void => {
    if (saved.current?.bluesky || client.did) void endWebSession();
    storeSaved(store, undefined);
    saved.current = undefined;
    setClient(undefined);
    setConvs(new Map());
    setMembers(new Map());
    setCurrent(undefined);
    setStatus('');
    void client.quit('Logged out');
  };
  const older = async (): Promise<void> => {
    if (!conv?.oldest || !conv.more) return;
    const h = await client.history(conv.name, { before: conv.oldest, limit: 100 });
    add(conv.name, h.map((m) => { const l = lineOf(m, 'message'); const did = signerRef.current(m); return did ? { ...l, signedBy: did } : l; }), 'start');
    update(conv.name, (x) => ({ ...x, oldest: h[0]?.msgid ?? x.oldest, more: h.length === 100 }));
  };
  /** a text typed in `where`'s message box: a message (several lines: one multiline message), or a /command (commands.ts) */
  const run = (where: string, text: string): void => {
    const a = parseInput(text);
    const note = (t: string): void => add(where, [localLine('', t, 'error')]);
    switch (a.kind) {
      case 'say': client.privmsg(where, a.text); break;
      case 'me': client.privmsg(where, `\x01ACTION ${a.text.replace(/\s*\n\s*/g, ' ')}\x01`); break;
      case 'join': client.join(a.channel, a.key); break;
      case 'part': {
        const ch = a.channel ?? where;
        if (!isChannel(ch)) { note('/part leaves a channel'); break; }
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
  /** this user operates the channel shown: may withdraw any message there (asked once per render, not per line) */
  const moderating = !!conv && isChannel(conv.name) && /[~&@]/.test(members.get(conv.name.toLowerCase())?.get(client.nick.toLowerCase())?.prefix ?? '');
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
        <div class="me">
          <span class="nick">{client.nick}</span>
          {/* nick ownership: a guest's nick is anyone's once it leaves; a logged-in user's is its account's */}
          <span class="identity" title={client.did ? `logged in as ${client.did}` : 'not logged in'}>{client.did ? handle ?? client.did : 'guest'}</span>
          <button type="button" class="logout" onClick={logout}>Log out</button>
        </div>
        <ul>
          {[...convs.values()].map((c) => (
            <li key={c.name}>
              <button type="button" aria-current={c.name === current ? 'true' : undefined} onClick={() => { setBrowsing(false); setCurrent(c.name); update(c.name, (x) => ({ ...x, unread: 0, mentions: 0 })); }}>
                {c.name}
                {c.mentions > 0 && <span class="mentions" aria-label={`${c.mentions} ${c.mentions === 1 ? 'mention' : 'mentions'}`}>@{c.mentions}</span>}
                {c.unread > 0 && <span class="unread" aria-label={`${c.unread} unread`}>{c.unread}</span>}
              </button>
            </li>
          ))}
        </ul>
        <JoinForm onJoin={(ch) => { setBrowsing(false); client.join(ch); }} />
        <button type="button" class="browse" aria-pressed={browsing} onClick={() => setBrowsing((b) => !b)}>Browse channels</button>
      </nav>
      <main class="main">
        {status && <p class="status" role="status">{status}</p>}
        {browsing ? (
          <ChannelList list={() => client.request('LIST')} onClose={() => setBrowsing(false)}
            onJoin={(ch) => { setBrowsing(false); if (convs.has(ch.toLowerCase())) setCurrent(ch); else client.join(ch); }} />
        ) : conv ? (
          <Conversation conv={conv} onOlder={older} onSend={(text) => run(conv.name, text)} onLeave={() => run(conv.name, '/part')}
            typists={[...(typing.get(conv.name.toLowerCase())?.keys() ?? [])]}
            onTyping={(state) => client.tagmsg(conv.name, { '+typing': state })}
            canDelete={(l) => moderating || l.from === client.nick}
            onDelete={(msgid) => client.redact(conv.name, msgid)} />
        ) : <p class="hint">Join a channel to start.</p>}
      </main>
      {!browsing && conv && isChannel(conv.name) && <MemberList channel={conv.name} members={sorted(members.get(conv.name.toLowerCase()))} />}
    </div>
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
