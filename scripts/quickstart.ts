// The quick start: on a fresh machine, start a real registry (Debian's docker-registry, installed
// when missing), push a small generated image to it with ocitool, and show what ocitool reads
// back and moves: digest, manifest, config, copy, pull, tags. Run with `npm run quickstart` (it builds first).
// Where the distribution registry is absent and cannot be installed (not root, no apt-get: a
// laptop), the same demonstration runs against the embedded `ocitool registry serve`, and says so.
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {ensurePackages} from './ensure-packages.js'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {writeImageDir} from '../test/support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../test/support/registry.js'
import {parseReference} from '../src/lib/name/reference.js'

const root = fileURLToPath(new URL('..', import.meta.url))

/** A registry the demonstration runs against: its host, how it is called, how to stop it. */
interface Target {
  host: string
  what: string
  stop(): Promise<void>
}

async function distribution(): Promise<Target> {
  const reg: RunningRegistry = await startRegistry({flavour: 'plain'})
  return {host: reg.host, what: `the distribution registry (Debian's docker-registry) at ${reg.url}, pid ${reg.pid}`, stop: () => reg.stop()}
}

/** embedded: `ocitool registry serve` on a free loopback port; its first stdout line is its URL. */
function embedded(): Promise<Target> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${root}/bin/run.js`, 'registry', 'serve', '--address', '127.0.0.1:0', '--quiet'], {stdio: ['ignore', 'pipe', 'inherit']})
    let out = ''
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`ocitool registry serve exited ${code} before it listened`)))
    child.stdout.on('data', (b) => {
      out += b
      const line = out.split('\n')[0]
      if (!out.includes('\n')) return
      const url = new URL(line.trim())
      child.removeAllListeners('exit')
      resolve({
        host: url.host,
        what: `the embedded registry (ocitool registry serve) at ${url.origin}, pid ${child.pid}`,
        stop: () => new Promise<void>((done) => {
          child.once('exit', () => done())
          child.kill('SIGTERM')
        }),
      })
    })
  })
}

async function startTarget(): Promise<Target> {
  try {
    ensurePackages({'docker-registry': 'docker-registry'})
  } catch (e) {
    console.log(`${(e as Error).message}`)
    console.log('falling back to the embedded registry: ocitool registry serve')
    return embedded()
  }
  return distribution()
}

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

const reg = await startTarget()
try {
  console.log(`registry used: ${reg.what}`)
  const dir = await mkdtemp(join(tmpdir(), 'ocitool-quickstart-'))
  try {
    const img = await writeImageDir(join(dir, 'image'), {layers: 2, seed: 'quickstart', mediaTypes: 'oci'})
    const ref = parseReference(`${reg.host}/quickstart/hello:v1`)
    console.log(`generated a 2-layer image in ${join(dir, 'image')} (${img.manifestDigest})`)
    await show(['push', join(dir, 'image'), ref.toString()])
    const digest = (await show(['digest', ref.toString()])).trim()
    if (digest !== img.manifestDigest) throw new Error(`digest mismatch: ${digest} != ${img.manifestDigest}`)
    await show(['manifest', ref.toString()])
    await show(['config', ref.toString()])
    await show(['copy', ref.toString(), `${reg.host}/quickstart/copy:v1`])
    await show(['pull', ref.toString(), join(dir, 'hello.tar')])
    await show(['tag', ref.toString(), 'latest'])
    await show(['ls', `${reg.host}/quickstart/hello`])
    await show(['catalog', reg.host])
    console.log(`\nquick start finished against ${reg.what.replace(/ at .*/, '')}: every digest ocitool read back is the one pushed`)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
} finally {
  await reg.stop()
}
