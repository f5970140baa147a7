// Certificates for the test registries, made with the openssl CLI: a CA, server
// certificates for the loopback addresses signed by it, and an RSA signing certificate for
// the token server's JWTs.

import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {runOk} from './exec.js'

export interface CertPair {
  /** PEM certificate file. */
  certFile: string
  /** PEM private key file (unencrypted). */
  keyFile: string
}

export interface TestCa extends CertPair {
  /** A directory holding only `ca.crt`, the layout skopeo's `--*-cert-dir` expects. */
  certDir: string
}

const days = '2'

/** makeCa writes a self-signed EC P-256 CA (`ca.crt`, `ca.key`, `certs/ca.crt`) into dir. */
export async function makeCa(dir: string, name = 'ocitool test CA'): Promise<TestCa> {
  const certFile = path.join(dir, 'ca.crt')
  const keyFile = path.join(dir, 'ca.key')
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', days, '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ])
  const certDir = path.join(dir, 'certs')
  await fsp.mkdir(certDir, {recursive: true})
  await fsp.copyFile(certFile, path.join(certDir, 'ca.crt'))
  return {certFile, keyFile, certDir}
}

/**
 * makeServerCert writes `<name>.crt`/`<name>.key` into dir: an EC server certificate signed
 * by ca, valid for 127.0.0.1, ::1 and localhost (IP and DNS subject alternative names).
 */
export async function makeServerCert(dir: string, ca: CertPair, name = 'server'): Promise<CertPair> {
  const certFile = path.join(dir, `${name}.crt`)
  const keyFile = path.join(dir, `${name}.key`)
  const csr = path.join(dir, `${name}.csr`)
  const ext = path.join(dir, `${name}.ext`)
  await fsp.writeFile(ext, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
    '',
  ].join('\n'))
  await runOk('openssl', [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', csr, '-subj', '/CN=127.0.0.1',
  ])
  await runOk('openssl', [
    'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial',
    '-out', certFile, '-days', days, '-extfile', ext,
  ])
  return {certFile, keyFile}
}

/**
 * makeSigningCert writes a self-signed RSA-2048 certificate (`<name>.crt`/`<name>.key`)
 * for RS256 JWTs. Self-signed is enough for distribution 2.8: it verifies the x5c leaf
 * against its rootcertbundle, and a leaf that is itself in the bundle verifies.
 */
export async function makeSigningCert(dir: string, name = 'token-signer'): Promise<CertPair> {
  const certFile = path.join(dir, `${name}.crt`)
  const keyFile = path.join(dir, `${name}.key`)
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', days, '-subj', '/CN=ocitool test token signer',
    '-addext', 'keyUsage=critical,digitalSignature',
  ])
  return {certFile, keyFile}
}
