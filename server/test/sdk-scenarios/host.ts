/**
 * The server side of the SDK scenarios, in Node (scenarios.ts, control.ts): a real server
 * (bootServer) on a data dir of its own, so it can be restarted on the same ports, plus the
 * operations a scenario asks for: restart, KILL by an operator, plain IRC clients over TCP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawClient } from '../harness/raw-client.js';
import { bootServer, type TestServer } from '../harness/server.js';
import type { ServerControl } from './control.js';
import { WAIT_MS } from './check.js';

const OPER_PASSWORD = 'scenario oper password';

export class ScenarioHost implements ServerControl {
  private readonly peers = new Map<string, RawClient>();
  private oper: RawClient | undefined;

  private constructor(private srv: TestServer, private readonly options: Record<string, unknown>, private readonly dataDir: string) {}

  /** a server with the scenario's options on top of the test defaults (and an operator password for kill) */
  static async boot(options: Record<string, unknown> = {}): Promise<ScenarioHost> {
    const dir = mkdtempSync(join(tmpdir(), 'freeq-sdk-scenario-'));
    const opts = { 'oper-password': OPER_PASSWORD, ...options };
    return new ScenarioHost(await bootServer(opts, dir), opts, dir);
  }

  /** the IRCv3 WebSocket endpoint */
  get wsUrl(): string { return `ws://127.0.0.1:${this.srv.webPort}/irc`; }

  /** plain IRC over TCP */
  get ircUrl(): string { return `irc://127.0.0.1:${this.srv.port}`; }

  async restart(): Promise<void> {
    const { port, webPort } = this.srv;
    // the harness's restart keeps the options, whose ports are 0: this one keeps the ports too
    this.forgetClients();
    await this.srv.stop();
    this.srv = await bootServer({ ...this.options, 'listen-addr': `127.0.0.1:${port}`, 'web-addr': `127.0.0.1:${webPort}` }, this.dataDir);
  }

  async kill(nick: string, reason: string): Promise<void> {
    if (!this.oper) {
      const oper = await this.srv.client('scenario-oper');
      oper.send(`OPER oper :${OPER_PASSWORD}`);
      await oper.expect(/ 381 /, WAIT_MS);
      this.oper = oper;
    }
    this.oper.send(`KILL ${nick} :${reason}`);
  }

  async peerConnect(nick: string, caps?: string[]): Promise<void> {
    if (this.peers.has(nick)) throw new Error(`peer ${nick} is connected already`);
    this.peers.set(nick, await this.srv.client(nick, caps ? { caps } : {}));
  }

  async peerSend(nick: string, ...lines: string[]): Promise<void> {
    this.peer(nick).send(...lines);
  }

  async peerExpect(nick: string, re: RegExp): Promise<string> {
    return this.peer(nick).expect(re, WAIT_MS);
  }

  async stop(): Promise<void> {
    this.forgetClients();
    await this.srv.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private peer(nick: string): RawClient {
    const p = this.peers.get(nick);
    if (!p) throw new Error(`no peer ${nick}: peerConnect first`);
    return p;
  }

  /** (the server's stop closes their connections) */
  private forgetClients(): void {
    this.peers.clear();
    this.oper = undefined;
  }
}
