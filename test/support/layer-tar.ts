// layerTar builds a small layer tar in memory from a list of entries (files, directories,
// symlinks, hard links) with fixed times and owners: the fixtures of export and flatten tests.
import * as tar from 'tar-stream'

export interface TarItem {
  name: string
  type?: 'file' | 'directory' | 'symlink' | 'link'
  body?: string
  linkname?: string
  mode?: number
}

const mtime = new Date('2000-01-01T00:00:00Z')

export async function layerTar(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer)
  })()
  for (const it of items) {
    const type = it.type ?? 'file'
    const header = {name: it.name, type, mode: it.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime, uid: 0, gid: 0, ...(it.linkname ? {linkname: it.linkname} : {})}
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (type === 'file') pack.entry(header, Buffer.from(it.body ?? ''), cb)
      else pack.entry(header, cb)
    })
  }
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}
