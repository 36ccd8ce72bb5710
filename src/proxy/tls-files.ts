// realtime-proxy --tls: the certificate a client must trust, kept between runs. Given files
// (--tls-cert/--tls-key) are used as they are; otherwise a self-signed pair is made once, saved in
// a state directory (.rtc/proxy-tls/, key mode 0600) and reused while it is valid and covers the
// listen host, so a client that trusted it (or pinned its fingerprint) keeps working after a restart.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../cli/args.js';
import { fsReason } from '../errors.js';

export const DEFAULT_TLS_DIR = join('.rtc', 'proxy-tls');
/** A saved certificate is made for this long and replaced when less than a day is left. */
const VALID_DAYS = 90;
const MIN_LEFT_MS = 24 * 3600_000;

export interface ProxyTls {
  cert: string;
  key: string;
  /** Absolute path of the certificate file (what a client is told to trust). */
  certPath: string;
  keyPath: string;
  /** SHA-256 fingerprint, colon-separated hex (as openssl x509 -fingerprint -sha256 prints it). */
  fingerprint: string;
  /** given: --tls-cert/--tls-key; created: made now and saved; reused: saved by an earlier run. */
  origin: 'given' | 'created' | 'reused';
  validTo: string;
}

function readPem(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${flag} ${path}: ${fsReason(e)}`);
  }
}

/** The certificate, or why it cannot serve `host` now (null = fine). */
function unusable(cert: X509Certificate, host: string, now: number): string | null {
  if (Date.parse(cert.validTo) - now < MIN_LEFT_MS) return 'it expires within a day';
  const isIp = /^[\d.]+$|:/.test(host);
  const covered = host === '0.0.0.0' || host === '::' || (isIp ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined);
  return covered ? null : `it does not cover ${host}`;
}

export async function proxyTls(o: { certFile?: string; keyFile?: string; dir?: string; host: string; now?: number }): Promise<ProxyTls> {
  const now = o.now ?? Date.now();
  if (o.certFile !== undefined && o.keyFile !== undefined) {
    const cert = readPem('--tls-cert', o.certFile);
    const key = readPem('--tls-key', o.keyFile);
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(cert);
      createPrivateKey(key);
    } catch {
      throw new UsageError(`--tls-cert ${o.certFile} / --tls-key ${o.keyFile}: not a PEM certificate and private key`);
    }
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new UsageError(`--tls-key ${o.keyFile} is not the key of --tls-cert ${o.certFile}: give the matching pair`);
    return { cert, key, certPath: resolve(o.certFile), keyPath: resolve(o.keyFile), fingerprint: x509.fingerprint256, origin: 'given', validTo: x509.validTo };
  }
  const dir = o.dir ?? DEFAULT_TLS_DIR;
  const certPath = resolve(dir, 'cert.pem');
  const keyPath = resolve(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    try {
      const cert = readFileSync(certPath, 'utf8');
      const key = readFileSync(keyPath, 'utf8');
      const x509 = new X509Certificate(cert);
      if (x509.checkPrivateKey(createPrivateKey(key)) && unusable(x509, o.host, now) === null) {
        return { cert, key, certPath, keyPath, fingerprint: x509.fingerprint256, origin: 'reused', validTo: x509.validTo };
      }
    } catch {
      // unreadable or damaged: replaced below
    }
  }
  // Loaded only when a certificate must be made (the emulator module is heavy to load).
  const { selfSignedPem } = await import('../net/tls.js');
  const pem = await selfSignedPem(o.host, 'realtime-proxy', VALID_DAYS);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, pem.key, { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    writeFileSync(certPath, pem.cert);
  } catch (e) {
    throw new Error(`cannot save the TLS certificate in ${resolve(dir)}: ${fsReason(e)}`);
  }
  const x509 = new X509Certificate(pem.cert);
  return { ...pem, certPath, keyPath, fingerprint: x509.fingerprint256, origin: 'created', validTo: x509.validTo };
}
