import {Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {DEFAULT_ADDRESS, parseAddress, startServer} from '../../lib/serve/index.js'

export default class RegistryServe extends OcitoolCommand {
  static override summary = 'Serve an OCI registry on this machine, for quick starts and CI'
  static override description = [
    'Runs an OCI distribution-spec 1.1 registry (blobs, chunked uploads, mounts, manifests, tags, catalog, referrers) until SIGINT or SIGTERM.',
    'The first line of stdout is its URL, so scripts can read it; request logs go to stderr.',
    `It listens on ${DEFAULT_ADDRESS}, reachable from this machine only; --address 0.0.0.0:1338 exposes it to the network, with neither authentication nor TLS.`,
    'Without --disk it keeps everything in a temporary directory removed on exit; with --disk it keeps blobs, manifests and tags there across restarts.',
  ].join('\n')

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --address 127.0.0.1:0 --disk ./registry-data',
    '<%= config.bin %> <%= command.id %> --address 0.0.0.0:1338',
  ]

  static override flags = {
    address: Flags.string({description: 'HOST:PORT to listen on; port 0 picks a free port, :PORT listens on every interface', default: DEFAULT_ADDRESS}),
    disk: Flags.string({description: 'directory that keeps blobs, manifests and tags across restarts (default: a temporary directory, removed on exit)'}),
    quiet: Flags.boolean({char: 'q', description: 'do not log requests to stderr'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parseCommand(RegistryServe)
    const {host} = parseAddress(flags.address)
    const server = await startServer({
      address: flags.address,
      disk: flags.disk,
      log: flags.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
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
