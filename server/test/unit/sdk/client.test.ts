// FreeqClient's CAP/SASL state machine against a scripted in-process server (real TCP socket):
// what the client sends, in which order, for each server answer. The real server is exercised
// end to end in test/conformance/sasl-e2e.test.ts.
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { ed25519 } from '@noble/curves/ed25519.js';
import { AuthenticateAssembler, FreeqClient, ed25519Signer, generateSecretKey, type FreeqClientOptions } from '../../../../sdk/src/index.js';

/** A one-connection scripted server: `lines` holds what the client sent; `next()` awaits a line. */
class Script {
  readonly lines: string[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];
  socket!: net.Socket;
  private constructor(readonly server: net.Server, readonly port: number) {}

  static async start(): Promise<Script> {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const s = new Script(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (sock) => {
      s.socket = sock;
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\r\n')) >= 0) { s.lines.push(buf.slice(0, i)); buf = buf.slice(i + 2); }
        for (const w of s.waiters.splice(0)) w();
      });
      sock.on('error', () => {});
    });
    return s;
  }

  send(...lines: string[]): void { this.socket.write(lines.map((l) => `${l}\r\n`).join('')); }

  async next(match?: RegExp, timeoutMs = 2000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.lines.length) {
        const l = this.lines[this.cursor++]!;
        if (!match || match.test(l)) return l;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`client did not send ${String(match)}; sent:\n${this.lines.join('\n')}`);
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  /** the registration preamble every client sends */
  async preamble(nick: string): Promise<void> {
    assert.equal(await this.next(), 'CAP LS 302');
    assert.equal(await this.next(), `NICK ${nick}`);
    assert.match(await this.next(), new RegExp(`^USER \\S+ 0 \\* :`));
  }

  welcome(nick: string): void { this.send(`:srv 001 ${nick} :Welcome`); }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

const challenge = (nonce: string, extra = ''): string =>
  Buffer.from(`{"session_id":"s1","nonce":"${nonce}","timestamp":${Math.floor(Date.now() / 1000)}${extra}}`).toString('base64url');

/** read the client's (possibly chunked) AUTHENTICATE response and decode its JSON */
async function readResponse(s: Script): Promise<{ json: Record<string, string>; chunks: string[] }> {
  const a = new AuthenticateAssembler();
  const chunks: string[] = [];
  for (;;) {
    const l = await s.next(/^AUTHENTICATE /);
    const p = l.slice('AUTHENTICATE '.length);
    chunks.push(p);
    const done = a.push(p);
    if (done !== undefined) return { json: JSON.parse(Buffer.from(done, 'base64url').toString()) as Record<string, string>, chunks };
  }
}

let script: Script | undefined;
let client: FreeqClient | undefined;
afterEach(async () => { client?.destroy(); await script?.close(); script = client = undefined; });

async function setup(opts: Omit<FreeqClientOptions, 'url'>): Promise<{ s: Script; c: FreeqClient; connected: Promise<void> }> {
  const s = (script = await Script.start());
  const c = (client = new FreeqClient({ url: `irc://127.0.0.1:${s.port}`, ...opts }));
  const connected = c.connect();
  connected.catch(() => {});
  await s.preamble(opts.nick);
  return { s, c, connected };
}

describe('sdk: FreeqClient CAP and SASL state machine', () => {
  test('no SASL: requests only offered caps from a multi-line LS, then CAP END; PING answered', async () => {
    const { s, c, connected } = await setup({ nick: 'bot', caps: ['server-time', 'echo-message', 'nope'] });
    s.send(':srv CAP * LS * :sasl=PLAIN server-time', ':srv CAP * LS :echo-message batch');
    assert.equal(await s.next(), 'CAP REQ :server-time echo-message');
    s.send(':srv CAP * ACK :server-time echo-message');
    assert.equal(await s.next(), 'CAP END');
    s.send('PING :tok 1');
    assert.equal(await s.next(), 'PONG :tok 1');
    s.welcome('bot');
    await connected;
    assert.equal(c.registered, true);
    assert.deepEqual([...c.enabledCaps].sort(), ['echo-message', 'server-time']);
  });

  test('crypto: signs the exact challenge bytes, chunks a long response with `+`, CAP END after 903', async () => {
    const signer = ed25519Signer(generateSecretKey('ed25519'));
    // a long DID makes the response an exact multiple of 400 or not, depending on padding; try both
    const { s, c, connected } = await setup({ nick: 'k', caps: [], sasl: { mechanism: 'ATPROTO-CHALLENGE', did: signer.did, method: 'crypto', sign: signer } });
    const events: string[] = [];
    c.on('authenticated', (did) => events.push(`ok ${did}`));
    s.send(':srv CAP * LS :sasl=ATPROTO-CHALLENGE,PLAIN');
    assert.equal(await s.next(), 'CAP REQ :sasl');
    s.send(':srv CAP k ACK :sasl');
    assert.equal(await s.next(), 'AUTHENTICATE ATPROTO-CHALLENGE');
    // the challenge itself arrives in two pieces (exactly 400 + rest)
    const ch = challenge('n-1', `,"pad":"${'p'.repeat(300)}"`);
    assert.ok(ch.length > 400);
    s.send(`AUTHENTICATE ${ch.slice(0, 400)}`, `AUTHENTICATE ${ch.slice(400)}`);
    const { json, chunks } = await readResponse(s);
    assert.deepEqual(Object.keys(json), ['did', 'method', 'signature', 'challenge_nonce']);
    assert.equal(json.did, signer.did);
    assert.equal(json.method, 'crypto');
    assert.equal(json.challenge_nonce, 'n-1');
    assert.ok(chunks.every((p) => p.length <= 400));
    assert.ok(ed25519.verify(Buffer.from(json.signature!, 'base64url'), Buffer.from(ch, 'base64url'), signer.publicKey));
    s.send(`:srv 900 k k!k@freeq/key/z6Mk ${signer.did} :You are now logged in`, ':srv 903 k :SASL authentication successful');
    assert.equal(await s.next(), 'CAP END');
    s.welcome('k');
    await connected;
    assert.deepEqual(events, [`ok ${signer.did}`]);
    assert.equal(c.did, signer.did);
  });

  test('a response that is an exact multiple of 400 bytes ends with AUTHENTICATE +', async () => {
    // pick a token length so that the base64url JSON is exactly 800 characters
    const base = (tok: string): string => Buffer.from(JSON.stringify({ did: 'did:plc:x', method: 'pds-session', signature: tok, challenge_nonce: 'n' })).toString('base64url');
    let tok = 'a'.repeat(500);
    while (base(tok).length < 800) tok += 'a';
    assert.equal(base(tok).length, 800);
    const { s } = await setup({ nick: 'p', caps: [], sasl: { mechanism: 'ATPROTO-CHALLENGE', did: 'did:plc:x', method: 'pds-session', accessJwt: tok } });
    s.send(':srv CAP * LS :sasl', ':srv CAP * ACK :sasl');
    await s.next(/^AUTHENTICATE ATPROTO-CHALLENGE$/);
    s.send(`AUTHENTICATE ${challenge('n')}`);
    const { json, chunks } = await readResponse(s);
    assert.deepEqual(chunks.map((x) => x.length), [400, 400, 1]);
    assert.equal(chunks[2], '+');
    assert.equal(json.signature, tok);
    assert.equal(json.pds_url, undefined);
  });

  test('pds-oauth: a DPOP_NONCE notice makes the next (fresh) challenge answer carry a proof with that nonce', async () => {
    const asked: Array<string | undefined> = [];
    const { s, c } = await setup({
      nick: 'o', caps: [],
      sasl: { mechanism: 'ATPROTO-CHALLENGE', did: 'did:plc:o', method: 'pds-oauth', accessToken: 'AT', pdsUrl: 'http://localhost:9', dpopProof: async (n) => { asked.push(n); return `proof-${n ?? 'none'}`; } },
    });
    s.send(':srv CAP * LS :sasl', ':srv CAP * ACK :sasl');
    await s.next(/^AUTHENTICATE ATPROTO-CHALLENGE$/);
    s.send(`AUTHENTICATE ${challenge('first')}`);
    const r1 = await readResponse(s);
    assert.deepEqual(r1.json, { did: 'did:plc:o', method: 'pds-oauth', signature: 'AT', pds_url: 'http://localhost:9', dpop_proof: 'proof-none', challenge_nonce: 'first' });
    s.send(':srv NOTICE o :DPOP_NONCE srv-nonce-1', `AUTHENTICATE ${challenge('second')}`);
    const r2 = await readResponse(s);
    assert.equal(r2.json.dpop_proof, 'proof-srv-nonce-1');
    assert.equal(r2.json.challenge_nonce, 'second');
    assert.deepEqual(asked, [undefined, 'srv-nonce-1']);
    const failed = c.next('authFailed');
    s.send(':srv 904 o :SASL authentication failed (DPoP nonce retry limit exceeded)');
    assert.deepEqual(await failed, ['904', 'SASL authentication failed (DPoP nonce retry limit exceeded)']);
    assert.equal(await s.next(), 'CAP END');
  });

  test('PLAIN sends the credentials after AUTHENTICATE +', async () => {
    const { s } = await setup({ nick: 'pl', caps: [], sasl: { mechanism: 'PLAIN', identifier: 'alice.test', password: 'abcd-efgh-ijkl-mnop' } });
    s.send(':srv CAP * LS :sasl=PLAIN');
    assert.equal(await s.next(), 'CAP REQ :sasl');
    s.send(':srv CAP * ACK :sasl');
    assert.equal(await s.next(), 'AUTHENTICATE PLAIN');
    s.send('AUTHENTICATE +');
    const l = await s.next(/^AUTHENTICATE /);
    assert.equal(Buffer.from(l.split(' ')[1]!, 'base64').toString(), '\0alice.test\0abcd-efgh-ijkl-mnop');
  });

  test('908 followed by 904 reports 904 once; the client then continues as a guest with CAP END', async () => {
    const { s, c, connected } = await setup({ nick: 'g', caps: [], sasl: { mechanism: 'PLAIN', identifier: 'x', password: 'y' } });
    const fails: string[][] = [];
    c.on('authFailed', (n, t) => fails.push([n, t]));
    s.send(':srv CAP * LS :sasl', ':srv CAP * ACK :sasl');
    await s.next(/^AUTHENTICATE PLAIN$/);
    s.send(':srv 908 g ATPROTO-CHALLENGE :are available SASL mechanisms', ':srv 904 g :SASL authentication failed');
    assert.equal(await s.next(), 'CAP END');
    s.welcome('g');
    await connected;
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(fails, [['904', 'SASL authentication failed']]);
  });

  test('requireSasl: a failure sends QUIT and connect() rejects; no CAP END', async () => {
    const { s, connected } = await setup({ nick: 'r', caps: [], requireSasl: true, sasl: { mechanism: 'PLAIN', identifier: 'x', password: 'y' } });
    s.send(':srv CAP * LS :sasl', ':srv CAP * ACK :sasl');
    await s.next(/^AUTHENTICATE PLAIN$/);
    s.send(':srv 904 r :SASL authentication failed');
    assert.match(await s.next(), /^QUIT /);
    await assert.rejects(connected, /SASL authentication failed \(904\)/);
    assert.ok(!script!.lines.includes('CAP END'));
  });

  test('a server without the sasl cap (or without the mechanism) is a local failure', async () => {
    const { s, c } = await setup({ nick: 'n', caps: ['server-time'], sasl: { mechanism: 'ATPROTO-CHALLENGE', did: 'did:key:z', method: 'service-auth', getToken: () => 't' } });
    const failed = c.next('authFailed');
    s.send(':srv CAP * LS :sasl=PLAIN server-time');
    assert.deepEqual(await failed, ['client', 'the server does not offer ATPROTO-CHALLENGE (offers PLAIN)']);
    assert.equal(await s.next(), 'CAP END');
  });

  test('a malformed challenge is aborted with AUTHENTICATE *', async () => {
    const { s, c } = await setup({ nick: 'm', caps: [], sasl: { mechanism: 'ATPROTO-CHALLENGE', did: 'did:key:z', method: 'service-auth', getToken: () => 't' } });
    const failed = c.next('authFailed');
    s.send(':srv CAP * LS :sasl', ':srv CAP * ACK :sasl');
    await s.next(/^AUTHENTICATE ATPROTO-CHALLENGE$/);
    s.send('AUTHENTICATE !!!notbase64');
    assert.equal(await s.next(), 'AUTHENTICATE *');
    const [num, text] = await failed;
    assert.equal(num, 'client');
    assert.match(text, /bad challenge/);
  });

  test('events: message, notice, join (extended-join account), part', async () => {
    const { s, c, connected } = await setup({ nick: 'e', caps: ['extended-join'] });
    s.send(':srv CAP * LS :extended-join');
    await s.next(/^CAP REQ/);
    s.send(':srv CAP e ACK :extended-join');
    await s.next(/^CAP END$/);
    s.welcome('e');
    await connected;
    const seen: unknown[] = [];
    c.on('message', (m) => seen.push(['msg', m.from, m.target, m.text, m.isChannel]));
    c.on('notice', (m) => seen.push(['notice', m.from, m.text]));
    c.on('join', (j) => seen.push(['join', j.nick, j.channel, j.account, j.self]));
    c.on('part', (p) => seen.push(['part', p.nick, p.channel, p.reason]));
    c.join('#a');
    assert.equal(await s.next(), 'JOIN #a');
    c.privmsg('#a', 'hello there');
    assert.equal(await s.next(), 'PRIVMSG #a :hello there');
    s.send(':e!e@h JOIN #a * :real', ':alice!a@freeq/plc/x JOIN #a did:plc:x :Alice', ':alice!a@h PRIVMSG #a :hi e', ':srv NOTICE e :note', ':alice!a@h PART #a :bye');
    const closed = c.next('close');
    s.send('ERROR :Closing link');
    s.socket.end();
    const [ev] = await closed;
    assert.equal(ev.reason, 'Closing link');
    assert.deepEqual(seen, [
      ['join', 'e', '#a', null, true], ['join', 'alice', '#a', 'did:plc:x', false], ['msg', 'alice', '#a', 'hi e', true],
      ['notice', 'srv', 'note'], ['part', 'alice', '#a', 'bye'],
    ]);
  });

  test("quit(): the server's closing ERROR is the end asked for, not an `error` event (#16); an ERROR of its own still is", async () => {
    const { s, c, connected } = await setup({ nick: 'q' });
    s.send(':srv CAP * LS :server-time');
    await s.next(/^CAP (REQ|END)/);
    s.welcome('q');
    await connected;
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.message));
    const closed = c.next('close');
    const quitting = c.quit('bye now');
    assert.equal(await s.next(/^QUIT/), 'QUIT :bye now');
    // modern.ircdocs.horse#quit-message: "The server acknowledges this by replying with an ERROR
    // message and closing the connection to the client."
    s.send('ERROR :Closing link: q (Quit: bye now)');
    s.socket.end();
    await quitting;
    const [ev] = await closed;
    assert.equal(ev.reason, 'Closing link: q (Quit: bye now)', 'the reason is still on the close event');
    assert.deepEqual(errors, []);

    await s.close();
    // the same ERROR without a QUIT of ours (a KILL, a server shutdown) is reported
    const second = await setup({ nick: 'k' });
    second.s.send(':srv CAP * LS :server-time');
    await second.s.next(/^CAP (REQ|END)/);
    second.s.welcome('k');
    await second.connected;
    const errs: string[] = [];
    second.c.on('error', (e) => errs.push(e.message));
    const closed2 = second.c.next('close');
    second.s.send('ERROR :Killed (oper (spam))');
    second.s.socket.end();
    await closed2;
    assert.deepEqual(errs, ['server closed the connection: Killed (oper (spam))']);
  });
});
