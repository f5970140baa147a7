/**
 * body: reading a response body whole (small documents, with a size cap) or discarding it so
 * the connection goes back to the pool.
 */
import type {Readable} from 'node:stream'
import {OcitoolError, RegistryError} from '../../errors.js'
import {errorCode} from './errors.js'

/** readBody reads a whole (small) body; more than `cap` bytes is an error naming `what`. */
export async function readBody(body: Readable, cap: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of body) {
      total += (chunk as Buffer).length
      if (total > cap) {
        body.destroy()
        throw new RegistryError(`${what}: larger than ${cap} bytes; refusing to read it`, {code: 'TOO_LARGE'})
      }
      chunks.push(chunk as Buffer)
    }
  } catch (e) {
    if (e instanceof OcitoolError) throw e
    // a connection lost or silent mid-body is the registry's (or the network's) failure
    const code = errorCode(e)
    throw new RegistryError(`${what}: the answer broke off after ${total} bytes (${code ?? (e as Error).message})`, {code: code ?? 'TRUNCATED', cause: e})
  }
  return Buffer.concat(chunks)
}

/** drain discards a body so the connection can be reused. */
export async function drain(body: Readable): Promise<void> {
  try {
    for await (const _ of body) {
      // discard
    }
  } catch {
    // the connection is lost anyway
  }
}
