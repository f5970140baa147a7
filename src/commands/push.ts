import {Flags} from '@oclif/core'
import {writeFile} from 'node:fs/promises'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/push.js'

export default class Push extends OcitoolCommand {
  static override summary = 'Push a tarball, an OCI layout or loose build outputs to a registry'
  static override description = `PATH is a docker tarball (docker save, modern or legacy), an OCI layout directory or tar, or a dir: directory; its kind is found by looking inside; - reads an archive from stdin. A store name picks one image of several: docker-archive:FILE:REF, oci-archive:FILE:REF, oci:DIR:REF, dir:DIR (--index pushes a whole layout as one index).
For build systems (containerregistry's pusher): --config FILE --layer FILE... [--manifest FILE] [--oci] IMAGE; layers may be compressed or not (plain ones are gzip-compressed), digests are computed. --stamp-info-file substitutes {KEY} in IMAGE from "KEY value" lines.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> app.tar registry.example.com/app:1.0',
    '<%= config.bin %> <%= command.id %> ./layout registry.example.com/app:1.0 --index --image-refs refs.txt',
    '<%= config.bin %> <%= command.id %> docker-archive:multi.tar:localhost/app:1 registry.example.com/app:1',
    '<%= config.bin %> <%= command.id %> --config config.json --layer layer1.tar --layer layer2.tar.gz registry.example.com/app:{BUILD_TAG} --stamp-info-file stable-status.txt',
  ]
  static override strict = false
  static override enableJsonFlag = true
  static override usage = ['<%= command.id %> PATH IMAGE', '<%= command.id %> --config FILE --layer FILE... IMAGE']
  static override flags = {
    stderrthreshold: flags.stderrThreshold(),
    index: Flags.boolean({description: 'push an OCI layout\'s index.json as an image index of all its images'}),
    'image-refs': Flags.string({description: 'write the pushed references (repo@digest), one per line, to this file'}),
    config: Flags.string({description: 'config file of an image given as loose files'}),
    layer: Flags.string({description: 'layer file (tar, tar.gz or tar.zst), base first; repeatable', multiple: true, multipleNonGreedy: true, dependsOn: ['config']}),
    manifest: Flags.string({description: 'the manifest of the loose files, pushed as it is', dependsOn: ['config']}),
    oci: Flags.boolean({description: 'with --config: OCI media types instead of Docker schema 2'}),
    digest: Flags.string({description: "containerregistry's pusher: a file holding a --layer's digest, in --layer order (checked); repeatable", multiple: true, multipleNonGreedy: true, dependsOn: ['layer']}),
    tarball: Flags.string({description: "containerregistry's pusher: a docker tarball; alone it is PATH, with --config its layers are the base"}),
    name: Flags.string({description: "containerregistry's pusher: the IMAGE to push to"}),
    'client-config-dir': Flags.string({description: 'the directory of the Docker config.json to read credentials from (instead of DOCKER_CONFIG)'}),
    'stamp-info-file': Flags.string({description: 'Bazel stamp file: "KEY value" lines substituted for {KEY} in IMAGE; repeatable', multiple: true, multipleNonGreedy: true}),
    jobs: flags.jobs,
    'chunk-size': Flags.integer({description: 'upload blobs in PATCH chunks of this many bytes', min: 1}),
    progress: flags.progress,
  }

  async run(): Promise<ops_result> {
    const {argv, flags: f} = await this.parseCommand(Push)
    if (f['client-config-dir']) process.env.DOCKER_CONFIG = f['client-config-dir']
    // containerregistry's pusher names the image with --name and the base tarball with --tarball
    const positional = [...(f.tarball !== undefined && f.config === undefined ? [f.tarball] : []), ...(argv as string[]), ...(f.name !== undefined ? [f.name] : [])]
    const loose = f.config !== undefined
    if (positional.length !== (loose ? 1 : 2)) throw new UsageError(loose ? 'push --config … needs exactly one IMAGE' : 'push needs PATH and IMAGE')
    const image = await ops.stamp(positional.at(-1)!, f['stamp-info-file'] ?? [])
    const dst = parseReference(image)
    const input = loose ? {config: f.config!, layers: f.layer ?? [], manifest: f.manifest, oci: f.oci, digests: f.digest, base: f.tarball} : positional[0]
    const result = await this.withProgress(f.progress, 'pushing', (onEvent) =>
      ops.push(input, dst, {...this.remoteOptions(), index: f.index, jobs: f.jobs, chunkSize: f['chunk-size'], onEvent}))
    const refs = result.images.map((im) => im.reference)
    if (f['image-refs']) await writeFile(f['image-refs'], refs.map((r) => `${r}\n`).join(''))
    for (const r of refs) this.log(r)
    return result
  }
}

type ops_result = Awaited<ReturnType<typeof ops.push>>
