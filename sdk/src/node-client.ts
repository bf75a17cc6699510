import { FreeqClientCore, type FreeqClientBaseOptions } from './client.js';
import { openTransport, type TransportOptions } from './transport.js';

export interface FreeqClientOptions extends FreeqClientBaseOptions {
  /** TLS, `ws` and socket options for Node's transports (transport.ts) */
  transport?: TransportOptions;
}

/** The client on Node: irc://, ircs://, ws:// and wss:// (transport.ts). */
export class FreeqClient extends FreeqClientCore {
  declare readonly options: FreeqClientOptions;

  constructor(options: FreeqClientOptions) {
    super(options, (url) => openTransport(url, options.transport));
  }
}
