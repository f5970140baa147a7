/**
 * untag: the registry's own tag delete, `DELETE /v2/<name>/manifests/<tag>` (distribution-spec
 * 1.1 "content management"; many registries, distribution 2.x among them, refuse it).
 */
import {drain} from './transport/http.js'
import {repositoryScope} from './transport/scope.js'
import type {RepositoryClient} from './registry.js'

/** deleteTagRequest asks the registry to remove just the tag; false when it will not (400/405/501). */
export async function deleteTagRequest(repo: RepositoryClient, tag: string): Promise<boolean> {
  const res = await repo.transport.request({
    method: 'DELETE',
    path: `/v2/${repo.repository}/manifests/${tag}`,
    scopes: [repositoryScope(repo.repository, 'delete')],
    expect: [202, 200, 204],
    allow: [400, 405, 501],
    context: {subject: `${repo.name}:${tag}`, what: 'tag'},
  })
  await drain(res.body)
  return res.status < 300
}
