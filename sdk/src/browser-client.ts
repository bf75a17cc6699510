import { FreeqClientCore, type FreeqClientBaseOptions } from './client.js';
import { openBrowserTransport, type BrowserTransportOptions } from './transport-browser.js';

export interface BrowserClientOptions extends FreeqClientBaseOptions, BrowserTransportOptions {}

/** The client in a browser: ws:// and wss:// through the platform's WebSocket (transport-browser.ts). */
export class FreeqClient extends FreeqClientCore {
  declare readonly options: BrowserClientOptions;

  constructor(options: BrowserClientOptions) {
    super(options, (url) => openBrowserTransport(url, options));
  }
}
