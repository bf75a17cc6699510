import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ED25519_PKCS8_PREFIX } from '../util/ed25519.js';

/**
 * The TLS identity of a federation link (#14, federation.md "Transports"): a self-signed X.509
 * certificate over the server's federation key (iroh-key.secret, ed25519), no CA. What a peer is
 * trusted for is its key, not the certificate: the peer id is the certificate's ed25519 public
 * key in hex, and TLS 1.3 proves the other side holds the private key (CertificateVerify).
 * @peculiar/x509 builds the certificate (node:crypto can read X.509 but not write it).
 */


const pem = (label: string, der: ArrayBuffer | Buffer): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der as ArrayBuffer).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;

export interface FederationTlsIdentity {
  /** PEM certificate: self-signed, subject CN = the peer id */
  cert: string;
  /** PEM PKCS#8 private key (the federation key: never logged, never written to disk by this module) */
  key: string;
  peerId: string;
}

/** A certificate for `seed` (valid from a day ago for ten years; links check the key, not the dates). */
export async function federationTlsIdentity(seed: Buffer, peerId: string, now = Date.now()): Promise<FederationTlsIdentity> {
  const pkcs8 = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('raw', Buffer.from(peerId, 'hex'), { name: 'Ed25519' }, true, ['verify']);
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${peerId}`,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 10 * 365 * 86_400_000),
    keys: { privateKey, publicKey },
    signingAlgorithm: { name: 'Ed25519' },
  });
  return { cert: cert.toString('pem') + '\n', key: pem('PRIVATE KEY', pkcs8), peerId };
}

/** The peer id a certificate proves (its ed25519 public key, hex), or undefined for any other key type. */
export function peerIdOfCertificate(der: Buffer): string | undefined {
  try {
    const key = new X509Certificate(der).publicKey;
    if (key.asymmetricKeyType !== 'ed25519') return undefined;
    const jwk = key.export({ format: 'jwk' });
    return jwk.x ? Buffer.from(jwk.x, 'base64url').toString('hex') : undefined;
  } catch {
    return undefined;
  }
}
