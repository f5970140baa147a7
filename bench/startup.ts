// Startup and a small registry round trip: `ocitool --version` and `ocitool digest` against a
// loopback distribution registry, next to `skopeo inspect` of the same image, in one run.
// crane digest (when crane is there: CRANE=path) too. Targets: --version median < 150 ms (issue 2),
// digest median ≤ 150 ms absolute (issue 14).
import {fileURLToPath} from 'node:url'
import {pushFixture} from '../test/support/fixtures.js'
import {startRegistry} from '../test/support/registry.js'
import {crane, craneNote, measureInterleaved, table} from './lib.js'

const runs = Number(process.env.BENCH_RUNS ?? 21)
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const reg = await startRegistry({flavour: 'plain'})
try {
  await pushFixture(reg, 'bench/small:v1', 'oci', 'bench-startup')
  const ref = `${reg.host}/bench/small:v1`
  const m = await measureInterleaved(
    {
      node: [process.execPath, ['-e', '0']],
      version: [bin, ['--version']],
      digest: [bin, ['digest', ref]],
      manifest: [bin, ['manifest', ref]],
      skopeoRaw: ['skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]],
      skopeoInspect: ['skopeo', ['inspect', '--format', '{{.Digest}}', '--tls-verify=false', `docker://${ref}`]],
      ...(crane ? {crane: [crane, ['digest', '--insecure', ref]] as [string, string[]]} : {}),
    },
    runs,
  )
  const {node, version, digest, manifest, skopeoRaw, skopeoInspect} = m
  const vsCrane = (x: number) => (m.crane ? (x / m.crane).toFixed(2) : '')
  const rows = [
    {what: 'node -e 0 (floor)', 'median ms': node.toFixed(0), target: '', 'vs skopeo inspect --raw': '', 'vs crane digest': ''},
    {what: 'ocitool --version', 'median ms': version.toFixed(0), target: '< 150', 'vs skopeo inspect --raw': '', 'vs crane digest': ''},
    {what: 'ocitool digest', 'median ms': digest.toFixed(0), target: '≤ 150', 'vs skopeo inspect --raw': (digest / skopeoRaw).toFixed(2), 'vs crane digest': vsCrane(digest)},
    {what: 'ocitool manifest', 'median ms': manifest.toFixed(0), target: '', 'vs skopeo inspect --raw': (manifest / skopeoRaw).toFixed(2), 'vs crane digest': vsCrane(manifest)},
    {what: 'crane digest', 'median ms': m.crane ? m.crane.toFixed(0) : '(no crane)', target: '', 'vs skopeo inspect --raw': m.crane ? (m.crane / skopeoRaw).toFixed(2) : '', 'vs crane digest': m.crane ? '1.00' : ''},
    {what: 'skopeo inspect --raw', 'median ms': skopeoRaw.toFixed(0), target: '', 'vs skopeo inspect --raw': '1.00', 'vs crane digest': ''},
    {what: 'skopeo inspect --format {{.Digest}}', 'median ms': skopeoInspect.toFixed(0), target: '', 'vs skopeo inspect --raw': (skopeoInspect / skopeoRaw).toFixed(2), 'vs crane digest': ''},
  ]
  console.log(`startup bench, ${runs} runs each (medians of wall ms), node ${process.version}; ${craneNote}\n`)
  console.log(table(rows))
} finally {
  await reg.stop()
}
