// append speed and bytes moved, in one run, on a loopback distribution registry.
// 1. A ~256 MiB uncompressed tar of real files (/usr/lib, /usr/share) appended to a small base,
//    against `gzip -1` alone on the same tar and `pigz -p 2 -1` + a curl upload of its output.
//    Each round appends into a new repository, so the new layer is uploaded every time.
//    Targets (issue 4): ≤ 0.6× gzip -1, ≤ 1.0× pigz+upload, peak RSS < 200 MiB.
// 2. An append to a 384 MiB base in the same registry: base bytes moved, counted on the
//    registry's access log (target 0).
import {execFile} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {readdir, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {gzipSync} from 'node:zlib'
import {makeLayerTar, pushFixture, sha256} from '../test/support/fixtures.js'
import {startRegistry} from '../test/support/registry.js'
import {Session} from '../src/lib/remote/session.js'
import {parseReference} from '../src/lib/name/reference.js'
import {crane, craneNote, median, table} from './lib.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const targetMiB = Number(process.env.BENCH_TAR_MIB ?? 256)
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const work = join(tmpdir(), `ocitool-bench-append-${process.pid}`)

function timed(cmd: string, args: string[]): Promise<{seconds: number; rssMiB: number}> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/time', ['-f', '%e %M', cmd, ...args], {maxBuffer: 1 << 26}, (err, _o, stderr) => {
      const m = /([\d.]+) (\d+)\s*$/.exec(stderr)
      if (err || !m) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.slice(-1500)}`))
      else resolve({seconds: Number(m[1]), rssMiB: Number(m[2]) / 1024})
    })
  })
}

/** files under /usr adding up to about `mib` MiB, for a tar of real content */
async function pickFiles(mib: number): Promise<string[]> {
  const out: string[] = []
  let total = 0
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, {withFileTypes: true}).catch(() => [])) {
      if (total >= mib * 1024 * 1024) return
      const p = join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) {
        total += (await stat(p)).size
        out.push(p)
      }
    }
  }
  for (const d of ['/usr/lib', '/usr/share', '/usr/bin']) await walk(d)
  return out
}

const reg = await startRegistry({flavour: 'plain'})
await rm(work, {recursive: true, force: true})
await (await import('node:fs/promises')).mkdir(work, {recursive: true})
try {
  const list = join(work, 'files.txt')
  await writeFile(list, (await pickFiles(targetMiB)).join('\n'))
  const tar = join(work, 'layer.tar')
  await timed('tar', ['cf', tar, '-T', list])
  const tarMiB = (await stat(tar)).size / 1024 / 1024
  await pushFixture(reg, 'bench/base:v1', 'oci', 'bench-append')
  const rows: Array<Record<string, string>> = []
  const oc: number[] = []
  const rss: number[] = []
  const gz: number[] = []
  const pz: number[] = []
  const cr: number[] = []
  const crRatio: number[] = []
  for (let i = 0; i < rounds; i++) {
    const r = await timed(bin, ['append', '-b', `${reg.host}/bench/base:v1`, '-f', tar, '-t', `${reg.host}/bench/app${i}:v1`])
    oc.push(r.seconds)
    rss.push(r.rssMiB)
    if (crane) {
      const k = await timed(crane, ['append', '--insecure', '-b', `${reg.host}/bench/base:v1`, '-f', tar, '-t', `${reg.host}/bench/crane${i}:v1`])
      cr.push(k.seconds)
      crRatio.push(r.seconds / k.seconds)
    }
    gz.push((await timed('sh', ['-c', `gzip -1 -c '${tar}' > /dev/null`])).seconds)
    pz.push(
      (
        await timed('sh', [
          '-c',
          `pigz -p 2 -1 -c '${tar}' > '${work}/p.gz' && loc=$(curl -s -o /dev/null -D - -X POST ${reg.url}/v2/bench/pigz/blobs/uploads/ | tr -d '\\r' | sed -n 's/^Location: //p') && d=sha256:$(sha256sum '${work}/p.gz' | cut -d' ' -f1) && case "$loc" in *\\?*) u="$loc&digest=$d";; *) u="$loc?digest=$d";; esac && curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary @'${work}/p.gz' "$u"`,
        ])
      ).seconds,
    )
  }
  const o = median(oc)
  rows.push({what: `append ${tarMiB.toFixed(0)} MiB tar (gzip -1)`, 'median s': o.toFixed(2), 'vs gzip -1 alone': (o / median(gz)).toFixed(2), 'target vs gzip': '≤ 0.60', 'vs pigz -p2 + upload': (o / median(pz)).toFixed(2), 'target vs pigz': '≤ 1.00', 'peak RSS MiB': Math.max(...rss).toFixed(0)})
  rows[0]['vs crane append'] = crane ? median(crRatio).toFixed(2) : ''
  rows[0]['target vs crane'] = '≤ 0.60'
  rows.push({what: 'crane append', 'median s': crane ? median(cr).toFixed(2) : '(no crane)', 'vs gzip -1 alone': crane ? (median(cr) / median(gz)).toFixed(2) : '', 'target vs gzip': '', 'vs pigz -p2 + upload': '', 'target vs pigz': '', 'peak RSS MiB': ''})
  rows.push({what: 'gzip -1 alone', 'median s': median(gz).toFixed(2), 'vs gzip -1 alone': '1.00', 'target vs gzip': '', 'vs pigz -p2 + upload': '', 'target vs pigz': '', 'peak RSS MiB': ''})
  rows.push({what: 'pigz -p 2 -1 + curl upload', 'median s': median(pz).toFixed(2), 'vs gzip -1 alone': (median(pz) / median(gz)).toFixed(2), 'target vs gzip': '', 'vs pigz -p2 + upload': '1.00', 'target vs pigz': '', 'peak RSS MiB': ''})

  // a 384 MiB base: count the base bytes the registry served or received for an append
  const layers = Array.from({length: 8}, () => gzipSync(randomBytes(48 * 1024 * 1024), {level: 0}))
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: layers.map(() => sha256(randomBytes(8)))}}))
  const s = new Session({})
  const ref = parseReference(`${reg.host}/bench/bigbase:v1`)
  const repo = s.repository(ref)
  for (const b of [config, ...layers]) await repo.uploadBlob(sha256(b), b.length, b)
  const manifest = {schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha256(config)}, layers: layers.map((b) => ({mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: b.length, digest: sha256(b)}))}
  await repo.putManifest('v1', Buffer.from(JSON.stringify(manifest)), manifest.mediaType)
  s.close()
  const small = join(work, 'small.tar')
  await writeFile(small, await makeLayerTar('small'))
  const mark = reg.requests().length
  for (const [tag, target] of [['same-repo', `${reg.host}/bench/bigbase:v2`], ['other-repo', `${reg.host}/bench/elsewhere:v1`]]) {
    const before = reg.requests().length
    const r = await timed(bin, ['append', '-b', `${reg.host}/bench/bigbase:v1`, '-f', small, '-t', target])
    const base = new Set(manifest.layers.map((l) => l.digest))
    const moved = reg.requests().slice(before).filter((q) => (q.method === 'GET' || q.method === 'PUT' || q.method === 'PATCH') && [...base].some((d) => q.uri.includes(d)))
    const served = moved.filter((q) => q.method === 'GET').reduce((n, q) => n + q.size, 0)
    const uploads = moved.filter((q) => q.method !== 'GET').length
    rows.push({what: `append to a 384 MiB base (${tag})`, 'median s': r.seconds.toFixed(2), 'vs gzip -1 alone': '', 'target vs gzip': '', 'vs pigz -p2 + upload': `base bytes served ${served}, base uploads ${uploads}`, 'target vs pigz': 'target 0, 0', 'peak RSS MiB': r.rssMiB.toFixed(0)})
  }
  void mark
  console.log(`append bench: ${rounds} rounds (medians), node ${process.version}; ${craneNote}\n`)
  console.log(table(rows))
} finally {
  await reg.stop()
  await rm(work, {recursive: true, force: true})
}
