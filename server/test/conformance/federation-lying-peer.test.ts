import { lyingPeerSuite } from '../harness/lying-peer-suite.js';

// #14 "lying peer" over TLS (test/harness/lying-peer-suite.ts; the same suite over iroh: federation-lying-peer-iroh.test.ts)
lyingPeerSuite('tls');
