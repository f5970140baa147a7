/**
 * address: the `HOST:PORT` a registry listens on. `[::1]:5000` for IPv6, `:1338` for every
 * interface (as Go's net.Listen reads it), port 0 for any free port.
 */
import {isIP} from 'node:net'
import {UsageError} from '../errors.js'

/** DEFAULT_ADDRESS is loopback only; `0.0.0.0:1338` exposes the registry to the network. */
export const DEFAULT_ADDRESS = '127.0.0.1:1338'

/** ListenAddress is a parsed address; host '' means every interface. */
export interface ListenAddress {
  readonly host: string
  readonly port: number
}

/** parseAddress reads `HOST:PORT`; it throws UsageError naming the problem. */
export function parseAddress(input: string): ListenAddress {
  const bad = (why: string) => new UsageError(`invalid address ${JSON.stringify(input)}: ${why}`, {suggestions: ['use HOST:PORT, like 127.0.0.1:1338']})
  let host: string
  let port: string
  if (input.startsWith('[')) {
    const end = input.indexOf(']')
    if (end === -1 || input[end + 1] !== ':') throw bad('an IPv6 address is written [ADDRESS]:PORT')
    host = input.slice(1, end)
    if (isIP(host) !== 6) throw bad(`${JSON.stringify(host)} is not an IPv6 address`)
    port = input.slice(end + 2)
  } else {
    const colon = input.lastIndexOf(':')
    if (colon === -1) throw bad('the port is missing')
    host = input.slice(0, colon)
    port = input.slice(colon + 1)
    if (host.includes(':')) throw bad('IPv6 addresses need brackets, like [::1]:1338')
    if (host !== '' && isIP(host) === 0 && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(host)) throw bad(`${JSON.stringify(host)} is not a host name or IP address`)
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw bad(`port ${JSON.stringify(port)} must be a number from 0 to 65535`)
  return {host, port: Number(port)}
}

/**
 * clientHost is `HOST:PORT` as a client on this machine reaches a listener: a wildcard
 * address becomes loopback, and IPv6 gets brackets.
 */
export function clientHost(host: string, port: number): string {
  const h = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return isIP(h) === 6 ? `[${h}]:${port}` : `${h}:${port}`
}
