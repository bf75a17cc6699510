/**
 * The SDK scenarios in a browser page (test/browser/sdk-browser.test.ts bundles this file with
 * esbuild for the browser platform): the browser client (sdk/src/browser.ts, the platform
 * WebSocket) and the server side's operations through `freeqServer`, the function the test
 * exposes to the page (control.ts). The test runs one scenario at a time with `freeqScenarios.run`.
 */
import { FreeqClient } from '../../../sdk/src/browser.js';
import { controlOver, type ControlCall } from './control.js';
import { runScenario } from './scenarios.js';

export interface ScenarioPage {
  /** run scenario `name` against the server at `url` (ws://…/irc); rejects with what failed */
  run(name: string, url: string): Promise<void>;
  /** connect a client as `nick` and quit: 'registered', or the message connect() rejected with */
  tryConnect(url: string, nick: string): Promise<string>;
}

const page = globalThis as unknown as { freeqServer?: ControlCall; freeqScenarios?: ScenarioPage };

const server = controlOver((op, args) => {
  if (!page.freeqServer) throw new Error('the test did not expose freeqServer to this page');
  return page.freeqServer(op, args);
});

page.freeqScenarios = {
  run: (name, url) => runScenario(name, { url, server, makeClient: (options) => new FreeqClient(options) }),
  async tryConnect(url, nick) {
    const c = new FreeqClient({ url, nick });
    try {
      await c.connect();
      await c.quit();
      return 'registered';
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      c.destroy();
    }
  },
};
