// offline-dns.cjs: a preload (`node --require test/support/offline-dns.cjs …`) that keeps the
// CLI under test away from real DNS. It replaces dns.lookup and dns.promises.lookup (the
// getaddrinfo path that net, http, https, tls and got use) so that:
//
//   - IP literals, `localhost`, empty and non-string host names go to Node's own lookup, as before
//     (Node answers IP literals itself, and glibc answers localhost from /etc/hosts);
//   - names listed in OCITOOL_TEST_HOSTS (`name=ip,name2=ip`; repeat a name for several
//     addresses; case-insensitive, a trailing dot ignored) resolve to those addresses;
//   - every other name fails, asynchronously and without any network traffic, with an error
//     shaped like Node's: message `getaddrinfo ENOTFOUND <name>`, errno -3008 (EAI_NONAME),
//     code `ENOTFOUND`, syscall `getaddrinfo`, hostname `<name>`.
//
// net reads `dns.lookup` from the module object each time it connects, so replacing the
// property is enough; syncBuiltinESMExports() also updates `import {lookup} from 'node:dns'`.
// Only lookup is replaced: dns.resolve* (c-ares) still query the network; ocitool does not use them.
// Exports nothing.
'use strict'

const dns = require('node:dns')
const net = require('node:net')
const util = require('node:util')
const {syncBuiltinESMExports} = require('node:module')

const originalLookup = dns.lookup
const originalPromisesLookup = dns.promises.lookup

const eaiNoname = [...util.getSystemErrorMap()].find(([, [name]]) => name === 'EAI_NONAME')?.[0] ?? -3008

/** parseHosts reads `name=ip,name2=ip` into name → [{address, family}]; bad entries throw. */
function parseHosts(spec) {
  const hosts = new Map()
  for (const entry of (spec || '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=')
    const name = normalise(entry.slice(0, eq))
    const address = entry.slice(eq + 1).trim()
    const family = net.isIP(address)
    if (eq <= 0 || !name || family === 0) throw new Error(`offline-dns: bad OCITOOL_TEST_HOSTS entry ${JSON.stringify(entry)} (want name=ip)`)
    if (!hosts.has(name)) hosts.set(name, [])
    hosts.get(name).push({address, family})
  }
  return hosts
}

function normalise(name) {
  return name.trim().toLowerCase().replace(/\.$/, '')
}

const testHosts = parseHosts(process.env.OCITOOL_TEST_HOSTS)

/** passThrough is true for what Node's own lookup answers without DNS (or rejects as invalid). */
function passThrough(hostname) {
  return typeof hostname !== 'string' || hostname === '' || net.isIP(hostname) !== 0 || normalise(hostname) === 'localhost'
}

/** notFound builds the error Node's dnsException() makes for EAI_NONAME. */
function notFound(hostname) {
  const err = new Error(`getaddrinfo ENOTFOUND ${hostname}`)
  err.errno = eaiNoname
  err.code = 'ENOTFOUND'
  err.syscall = 'getaddrinfo'
  err.hostname = hostname
  return err
}

/** parseOptions accepts lookup's `family` number or options object; returns {family, all}. */
function parseOptions(options) {
  if (typeof options === 'number') return {family: options, all: false}
  if (options === null || typeof options !== 'object') return {family: 0, all: false}
  const f = options.family
  const family = f === 'IPv4' ? 4 : f === 'IPv6' ? 6 : Number(f) || 0
  return {family, all: options.all === true}
}

/** resolve answers a non-pass-through name: [err] or [null, address(es), family]. */
function resolve(hostname, options) {
  const {family, all} = parseOptions(options)
  const found = (testHosts.get(normalise(hostname)) || []).filter((a) => family === 0 || a.family === family)
  if (found.length === 0) return [notFound(hostname)]
  if (all) return [null, found.map((a) => ({address: a.address, family: a.family}))]
  return [null, found[0].address, found[0].family]
}

/** lookup has dns.lookup's signature: (hostname, [options | family], callback). */
function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options
    options = {}
  }
  if (passThrough(hostname) || typeof callback !== 'function') return originalLookup.apply(this, arguments)
  const result = resolve(hostname, options)
  process.nextTick(() => callback(...result))
  return {}
}

/** promisesLookup has dns.promises.lookup's signature: (hostname, [options | family]). */
function promisesLookup(hostname, options) {
  if (passThrough(hostname)) return originalPromisesLookup.apply(this, arguments)
  const [err, address, family] = resolve(hostname, options)
  if (err) return Promise.reject(err)
  return Promise.resolve(Array.isArray(address) ? address : {address, family})
}

// util.promisify(dns.lookup) must keep resolving to {address, family}, as the original does.
Object.defineProperty(lookup, util.promisify.custom, {value: promisesLookup, configurable: true})

dns.lookup = lookup
dns.promises.lookup = promisesLookup
syncBuiltinESMExports()
