import { lyingPeerSuite } from '../harness/lying-peer-suite.js';

// #14 "lying peer" over iroh (QUIC, relays off): the same suite as over TLS (test/harness/lying-peer-suite.ts)
lyingPeerSuite('iroh');
