// The quick start: on a fresh machine, start a real registry (Debian's docker-registry, installed
// when missing), push a small generated image to it, and show what ocitool reads back: digest,
// manifest, config and tags. Run with `npm run quickstart` (it builds first).
import {execFileSync, spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {ensurePackages} from './ensure-packages.js'
import {buildImage} from '../test/support/fixtures.js'
import {startRegistry} from '../test/support/registry.js'
import {Session} from '../src/lib/remote/session.js'
import {parseReference} from '../src/lib/name/reference.js'

const root = fileURLToPath(new URL('..', import.meta.url))
ensurePackages({'docker-registry': 'docker-registry'})

function ocitool(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${root}/bin/run.js`, ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b) => (stdout += b))
    child.stderr.on('data', (b) => (stderr += b))
    child.on('close', (code) => resolve({code: code ?? 1, stdout, stderr}))
  })
}

async function show(args: string[]): Promise<string> {
  console.log(`\n$ ocitool ${args.join(' ')}`)
  const r = await ocitool(args)
  process.stdout.write(r.stdout.endsWith('\n') || r.stdout === '' ? r.stdout : `${r.stdout}\n`)
  if (r.stderr) process.stdout.write(r.stderr)
  if (r.code !== 0) throw new Error(`ocitool ${args[0]} exited ${r.code}`)
  return r.stdout
}

const reg = await startRegistry({flavour: 'plain'})
try {
  console.log(`started the distribution registry at ${reg.url} (pid ${reg.pid})`)
  const img = await buildImage({layers: 2, seed: 'quickstart', mediaTypes: 'oci'})
  const ref = parseReference(`${reg.host}/quickstart/hello:v1`)
  const session = new Session({})
  try {
    const repo = session.repository(ref)
    for (const [digest, bytes] of img.blobs) await repo.uploadBlob(digest, bytes.length, bytes)
    await repo.putManifest('v1', img.manifestBytes, img.mediaType)
  } finally {
    session.close()
  }
  console.log(`pushed a generated 2-layer image as ${ref} (${img.manifestDigest})`)
  const digest = (await show(['digest', ref.toString()])).trim()
  if (digest !== img.manifestDigest) throw new Error(`digest mismatch: ${digest} != ${img.manifestDigest}`)
  await show(['manifest', ref.toString()])
  await show(['config', ref.toString()])
  await show(['tag', ref.toString(), 'latest'])
  await show(['ls', `${reg.host}/quickstart/hello`])
  await show(['catalog', reg.host])
  console.log('\nquick start finished: the digest ocitool read back is the one pushed')
} finally {
  await reg.stop()
}
