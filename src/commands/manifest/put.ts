import {readFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {NotFoundError, OcitoolError, UsageError} from '../../lib/errors.js'
import {parseReference} from '../../lib/name/reference.js'
import {MAX_MANIFEST_BYTES} from '../../lib/oci/manifest.js'
import * as ops from '../../lib/ops/manifest-put.js'

export default class ManifestPut extends OcitoolCommand {
  static override summary = 'Upload a manifest exactly as given (from a file or stdin) and print its digest'
  static override description = `The bytes are sent unchanged. The media type is --media-type, else the document's "mediaType" field, else what its shape says (an OCI index or manifest). IMAGE names a tag, or a digest the bytes must hash to. The registry refuses a manifest whose blobs it lacks.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 manifest.json',
    '<%= config.bin %> manifest registry.example.com/app:1.0 | jq ... | <%= config.bin %> <%= command.id %> registry.example.com/app:1.0-edited',
  ]
  static override enableJsonFlag = true
  static override args = {
    image: Args.string({required: true, description: 'REGISTRY/REPO:TAG or REGISTRY/REPO@DIGEST'}),
    file: Args.string({description: 'manifest file, or - for stdin (the default)', ignoreStdin: true}),
  }
  static override flags = {
    'media-type': Flags.string({char: 'm', description: 'Content-Type to send (default: the document\'s mediaType)'}),
  }

  async run(): Promise<ops.ManifestPutResult> {
    const {args, flags} = await this.parseCommand(ManifestPut)
    const ref = parseReference(args.image)
    const file = args.file ?? '-'
    if (file === '-' && flags['password-stdin']) throw new UsageError('the manifest is read from stdin; it cannot also carry the password (name a FILE)')
    if (file === '-' && process.stdin.isTTY) throw new UsageError('pipe a manifest to stdin, or name a FILE')
    const bytes = file === '-' ? await readStdin() : await readManifestFile(file)
    const r = await ops.putManifest(ref, bytes, {...this.remoteOptions(), mediaType: flags['media-type']})
    this.log(r.digest)
    return r
  }
}

async function readManifestFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new NotFoundError(`${file}: no such file`, {code: 'FILE_NOT_FOUND'})
    throw new OcitoolError(`reading ${file}: ${(e as Error).message}`, {code: 'READ', cause: e})
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of process.stdin) {
    chunks.push(c as Buffer)
    n += (c as Buffer).length
    if (n > MAX_MANIFEST_BYTES) throw new UsageError(`the manifest on stdin is over ${MAX_MANIFEST_BYTES} bytes`, {code: 'MANIFEST_TOO_BIG'})
  }
  return Buffer.concat(chunks)
}
