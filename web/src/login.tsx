import { useState } from 'preact/hooks';

/**
 * The first screen: log in with a Bluesky handle (AT Protocol OAuth at the user's own PDS: auth.ts)
 * or join as a guest with a nickname.
 */
export function Login({ onGuest, onBluesky, status, nick: savedNick }: {
  onGuest: (nick: string) => Promise<void>;
  /** resolves with a message when the login could not start (else the page goes to the PDS) */
  onBluesky: (handle: string) => Promise<string>;
  status: string;
  nick?: string;
}) {
  const [nick, setNick] = useState(savedNick ?? '');
  const [handle, setHandle] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState('');
  return (
    <div class="login">
      <h1>freeq</h1>
      <form aria-label="Log in with Bluesky" onSubmit={(e) => {
        e.preventDefault();
        const h = handle.trim();
        if (!h || busy) return;
        setBusy(true);
        setProblem('');
        void onBluesky(h).then((msg) => { setProblem(msg); if (msg) setBusy(false); });
      }}>
        <label for="handle">Bluesky handle</label>
        <input id="handle" value={handle} onInput={(e) => setHandle((e.target as HTMLInputElement).value)} placeholder="alice.bsky.social"
          autoComplete="username" autoCapitalize="none" spellcheck={false} maxLength={253} required />
        <button type="submit" disabled={busy}>{busy ? 'Going to Bluesky…' : 'Log in with Bluesky'}</button>
      </form>
      <p class="or">or</p>
      <form aria-label="Join as guest" onSubmit={(e) => { e.preventDefault(); if (nick.trim()) void onGuest(nick.trim()); }}>
        <label for="nick">Nickname</label>
        <input id="nick" value={nick} onInput={(e) => setNick((e.target as HTMLInputElement).value)} autoComplete="nickname" maxLength={30} required />
        <button type="submit">Join as guest</button>
      </form>
      {(problem || status) && <p role="status">{problem || status}</p>}
    </div>
  );
}
