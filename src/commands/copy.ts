import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import {UsageError} from '../lib/errors.js'
import * as flags from '../lib/cli/flags.js'
import * as ops from '../lib/ops/copy.js'
import {sideKeychains} from '../lib/auth/scoped.js'
import {sideRegistrySettings} from '../lib/remote/side-tls.js'
import {type Location, parseLocation} from '../lib/stores/location.js'

export default class Copy extends OcitoolCommand {
  static override aliases = ['cp']
  static override summary = 'Copy an image or index from SRC to DST, keeping its digest'
  static override description = `SRC and DST are registry references or oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF], dir:DIR (as skopeo: PATH ends at its first colon, REF may hold colons, a colon in PATH is written \\:).
Each blob moves once, concurrently and verified; blobs the destination has are skipped, and within one registry they are mounted. Manifests keep their exact bytes (and digests), except where --platform picks a subset of an index (a new index) or the destination format cannot hold the original (docker archives store single images).
Several pairs (SRC DST SRC DST...), or "-" with one "SRC DST" pair per line on stdin, are copied concurrently (4 at a time) on one connection pool, one token per registry and scope; each prints "SRC DST REFERENCE..." in input order, or with --json one object per line. A failing pair prints "Error: SRC DST: ..." on stderr and the others go on; the exit code is the worst of them.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> ghcr.io/example/app:1.0 registry.example.com/app:1.0',
    '<%= config.bin %> <%= command.id %> registry.example.com/app registry.example.com/mirror/app --all-tags --jobs 8',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 oci:./layout:1.0 --platform linux/amd64,linux/arm64 --as-index',
    '<%= config.bin %> <%= command.id %> - < pairs.txt',
  ]
  static override enableJsonFlag = true
  static override strict = false
  static override usage = ['<%= command.id %> SRC DST [SRC DST...]', '<%= command.id %> -']
  static override args = {
    src: Args.string({required: true, description: 'source image, or - to read "SRC DST" lines from stdin'}),
    dst: Args.string({description: 'destination'}),
  }
  static override flags = {
    'all-tags': Flags.boolean({char: 'a', description: 'copy every tag of the source repository (tags concurrently)'}),
    jobs: flags.jobs,
    'no-clobber': Flags.boolean({char: 'n', description: 'fail instead of moving a tag that exists at the destination'}),
    ...flags.transferPlatformFlags,
    'allow-nondistributable-artifacts': Flags.boolean({description: 'copy foreign (non-distributable) layers too'}),
    'chunk-size': Flags.integer({description: 'upload blobs in PATCH chunks of this many bytes', min: 1}),
    'annotate-ref': Flags.boolean({description: 'oci: and oci-archive: destinations: name each image by its full reference (registry/repo:tag), so podman load and ctr import name it'}),
    referrers: Flags.boolean({description: "copy each manifest's referrers too (signatures, SBOMs), recursively; registries only"}),
    progress: flags.progress,
    'src-creds': Flags.string({description: 'credentials for the source registry only (USERNAME:PASSWORD)', helpGroup: 'REGISTRY', helpValue: 'USER:PASS'}),
    'dest-creds': Flags.string({description: 'credentials for the destination registry only (USERNAME:PASSWORD)', helpGroup: 'REGISTRY', helpValue: 'USER:PASS'}),
    'src-authfile': Flags.string({description: 'auth file (containers auth.json / Docker config format) for the source registry', helpGroup: 'REGISTRY', exclusive: ['src-creds']}),
    'dest-authfile': Flags.string({description: 'auth file (containers auth.json / Docker config format) for the destination registry', helpGroup: 'REGISTRY', exclusive: ['dest-creds']}),
    'src-tls-verify': Flags.string({description: "false: do not verify the source registry's TLS certificate (and allow plain HTTP); as skopeo, written --src-tls-verify=false", helpGroup: 'REGISTRY', helpValue: 'true|false'}),
    'dest-tls-verify': Flags.string({description: "false: do not verify the destination registry's TLS certificate (and allow plain HTTP)", helpGroup: 'REGISTRY', helpValue: 'true|false'}),
    'src-cert-dir': Flags.string({description: 'trust the CA certificates DIR/*.crt for the source registry (and its token server)', helpGroup: 'REGISTRY', helpValue: 'DIR'}),
    'dest-cert-dir': Flags.string({description: 'trust the CA certificates DIR/*.crt for the destination registry', helpGroup: 'REGISTRY', helpValue: 'DIR'}),
  }

  async run(): Promise<ops.CopyResult | undefined> {
    const {args, positional, flags: f} = await this.parseCommand(Copy)
    const options = {
      allTags: f['all-tags'],
      jobs: f.jobs,
      noClobber: f['no-clobber'],
      platforms: flags.platformsFrom(f),
      asIndex: f['as-index'],
      allowNondistributable: f['allow-nondistributable-artifacts'],
      chunkSize: f['chunk-size'],
      referrers: f.referrers,
      annotateRef: f['annotate-ref'] ? ('full' as const) : undefined,
    }
    const sideFlags = f['src-creds'] ?? f['dest-creds'] ?? f['src-authfile'] ?? f['dest-authfile'] ?? f['src-tls-verify'] ?? f['dest-tls-verify'] ?? f['src-cert-dir'] ?? f['dest-cert-dir']
    if (positional.length > 2 || positional[0] === '-') {
      if (sideFlags !== undefined) throw new UsageError('--src-*/--dest-* flags (creds, authfile, tls-verify, cert-dir) take one SRC DST pair')
      if (positional[0] !== '-' && positional.length % 2 !== 0) throw new UsageError('copy takes SRC DST pairs')
      const inputs = positional[0] === '-' ? await this.batchInputs(positional) : positional.flatMap((p, i) => (i % 2 ? [] : [`${p} ${positional[i + 1]}`]))
      await this.runBatch(
        inputs,
        4,
        (input, remote) => {
          const [src, dst, ...rest] = input.split(/\s+/)
          if (dst === undefined || rest.length > 0) throw new UsageError(`"${input}": a line is SRC DST`)
          return ops.copy(parseLocation(src), parseLocation(dst), {...remote, ...options})
        },
        {text: (input, r) => [input, ...r.images.map((im) => im.reference)].join(' '), json: (_, r) => ({images: r.images, transfer: r.transfer})},
      )
      return undefined
    }
    if (args.dst === undefined) throw new UsageError('copy needs a SRC and a DST')
    const src = parseLocation(args.src)
    const dst = parseLocation(args.dst)
    const host = (l: Location) => (l.kind === 'registry' ? l.ref.registry : undefined)
    const firstKeychains = sideKeychains(
      [
        {flag: 'src', registry: host(src), creds: f['src-creds'], authfile: f['src-authfile']},
        {flag: 'dest', registry: host(dst), creds: f['dest-creds'], authfile: f['dest-authfile']},
      ],
      (m) => this.warnLine(m),
    )
    const remote = this.remoteOptions({firstKeychains})
    const registries = await sideRegistrySettings([
      {flag: 'src', registry: host(src), verify: f['src-tls-verify'], certDir: f['src-cert-dir']},
      {flag: 'dest', registry: host(dst), verify: f['dest-tls-verify'], certDir: f['dest-cert-dir']},
    ], remote.registries)
    const result = await this.withProgress(f.progress, 'copying', (onEvent) =>
      ops.copy(src, dst, {...remote, ...(registries ? {registries} : {}), ...options, onEvent}))
    const foreign = ops.foreignLayersWarning(result)
    if (foreign) this.warnLine(foreign)
    for (const im of result.images) this.log(im.reference)
    return result
  }
}
