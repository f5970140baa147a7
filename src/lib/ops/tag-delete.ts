/**
 * tag-delete: remove a tag and only the tag; the image it named stays, reachable by digest.
 * The registry's own tag delete is asked first. Where it is refused (distribution 2.x answers
 * 400 UNSUPPORTED/DIGEST_INVALID), regctl's method: a small manifest of our own, unique to
 * this run, is pushed to the tag (moving it off the image), then deleted by digest, which
 * takes the tag with it and touches no other manifest.
 */
import {randomBytes} from 'node:crypto'
import {NotFoundError} from '../errors.js'
import type {Reference} from '../name/reference.js'
import {digestOf} from '../oci/digest.js'
import {MediaType} from '../oci/media-types.js'
import {deleteTagRequest} from '../remote/untag.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {pushBytesBlob} from './attach.js'

export interface TagDeleteResult {
  /** `registry/repository:tag` */
  tag: string
  /** the digest the tag named (still there) */
  digest: string
  /** `registry`: the registry's tag delete; `dummy`: a placeholder manifest pushed and deleted */
  method: 'registry' | 'dummy'
}

/** deleteTag removes `ref`'s tag; NotFoundError when there is no such tag. */
export function deleteTag(ref: Reference, options: RemoteOptions): Promise<TagDeleteResult> {
  return withSession(options, async (s) => {
    const repo = s.repository(ref)
    const tag = ref.tag!
    const name = `${ref.name}:${tag}`
    const head = await repo.headManifest(tag)
    if (!head) throw new NotFoundError(`tag ${name}: not found`, {code: 'MANIFEST_UNKNOWN'})
    const digest = head.digest || (await repo.getManifest(tag)).digest
    if (await deleteTagRequest(repo, tag)) return {tag: name, digest, method: 'registry'}
    const config = await pushBytesBlob(repo, Buffer.from('{}'))
    const dummy = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: 'application/vnd.ocitool.tag-delete.placeholder',
        config: {mediaType: MediaType.ociEmpty, digest: config.digest, size: config.size, data: 'e30='},
        layers: [{mediaType: MediaType.ociEmpty, digest: config.digest, size: config.size, data: 'e30='}],
        annotations: {'org.opencontainers.image.created': new Date().toISOString(), 'vnd.ocitool.tag-delete.nonce': randomBytes(16).toString('hex')},
      }),
    )
    const dummyDigest = digestOf(dummy)
    await repo.putManifest(tag, dummy, MediaType.ociManifest)
    await repo.deleteManifest(dummyDigest)
    return {tag: name, digest, method: 'dummy'}
  })
}
