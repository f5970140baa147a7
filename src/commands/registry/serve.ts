import {Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {UsageError} from '../../lib/errors.js'
import {DEFAULT_ADDRESS, DEFAULT_LIMITS, STORE_MARKER, parseAddress, startServer} from '../../lib/serve/index.js'

/** seconds is a flag of a non-negative number of seconds (fractions allowed; 0 turns the limit off). */
const seconds = (description: string, defaultMs: number) =>
  Flags.custom<number>({
    description: `${description}; 0: no limit`,
    helpValue: 'SECONDS',
    default: defaultMs / 1000,
    helpGroup: 'LIMITS',
    parse: async (input: string) => {
      const n = Number(input)
      if (input.trim() === '' || !Number.isFinite(n) || n < 0 || n > 2_000_000) throw new UsageError(`invalid number of seconds ${JSON.stringify(input)}: use a number from 0 to 2000000`)
      return n
    },
  })()

const count = (description: string, dflt: number) => Flags.integer({description: `${description}; 0: no bound`, default: dflt, min: 0, helpValue: 'N', helpGroup: 'LIMITS'})

export default class RegistryServe extends OcitoolCommand {
  static override summary = 'Serve an OCI registry on this machine, for quick starts and CI'
  static override description = [
    'Runs an OCI distribution-spec 1.1 registry (blobs, chunked uploads, mounts, manifests, tags, catalog, referrers) until SIGINT or SIGTERM.',
    'The first line of stdout is its URL, so scripts can read it; request logs go to stderr.',
    `It listens on ${DEFAULT_ADDRESS}, reachable from this machine only; --address 0.0.0.0:1338 exposes it to the network, with neither authentication nor TLS.`,
    'Without --disk it keeps everything in a temporary directory removed on exit; with --disk it keeps blobs, manifests and tags there across restarts.',
    `--disk takes a new or empty directory (which becomes a store, marked by ${STORE_MARKER}) or a store it made before; it refuses any other directory (exit 2) and never deletes a file it did not create.`,
    'The LIMITS flags keep one client from holding the registry down: slow or silent connections are closed, idle ones make room for new ones at --max-connections, and abandoned uploads expire with their files.',
  ].join('\n')

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --address 127.0.0.1:0 --disk ./registry-data',
    '<%= config.bin %> <%= command.id %> --address 0.0.0.0:1338',
    '<%= config.bin %> <%= command.id %> --idle-timeout 5 --max-connections 200 --upload-expiry 60',
  ]

  static override flags = {
    address: Flags.string({description: 'HOST:PORT to listen on; port 0 picks a free port, :PORT listens on every interface', default: DEFAULT_ADDRESS}),
    disk: Flags.string({description: `directory that keeps blobs, manifests and tags across restarts: new, empty, or a store made by this command (marked by ${STORE_MARKER}); default: a temporary directory, removed on exit`}),
    quiet: Flags.boolean({char: 'q', description: 'do not log requests to stderr'}),
    'header-timeout': seconds('close a connection whose request headers are not complete this long after it opened or the request began', DEFAULT_LIMITS.headerTimeoutMs),
    'request-timeout': seconds('answer 408 and close when a whole request, body included, takes longer', DEFAULT_LIMITS.requestTimeoutMs),
    'idle-timeout': seconds('close a connection with no traffic for this long, or kept alive this long without a new request', DEFAULT_LIMITS.idleTimeoutMs),
    'max-connections': count('connections open at once; at the bound the longest-idle one is closed for a new one (refused when all are busy)', DEFAULT_LIMITS.maxConnections),
    'upload-expiry': seconds('an upload session unused for this long expires and its file is removed', DEFAULT_LIMITS.uploadExpiryMs),
    'max-uploads': count('upload sessions open at once (429 beyond)', DEFAULT_LIMITS.maxUploads),
  }

  async run(): Promise<void> {
    const {flags} = await this.parseCommand(RegistryServe)
    const {host} = parseAddress(flags.address)
    const ms = (s: number) => Math.round(s * 1000)
    const server = await startServer({
      address: flags.address,
      disk: flags.disk,
      log: flags.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
      limits: {
        headerTimeoutMs: ms(flags['header-timeout']),
        requestTimeoutMs: ms(flags['request-timeout']),
        idleTimeoutMs: ms(flags['idle-timeout']),
        maxConnections: flags['max-connections'],
        uploadExpiryMs: ms(flags['upload-expiry']),
        maxUploads: flags['max-uploads'],
      },
    })
    await this.writeOut(`${server.url}\n`)
    process.stderr.write(`serving on ${server.url}\n`)
    if (!isLoopback(host)) this.warnLine(`listening on ${flags.address}: anyone who can reach this machine can push and pull, without credentials`)
    const signal = this.abort.signal
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve()
      else signal.addEventListener('abort', () => resolve(), {once: true})
    })
    await server.close()
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}
