// Startup and a small registry round trip: `ocitool --version` and `ocitool digest` against a
// loopback distribution registry, next to `skopeo inspect` of the same image, in one run.
// Targets (issue 2): --version median < 150 ms, digest median < 250 ms.
import {fileURLToPath} from 'node:url'
import {pushFixture} from '../test/support/fixtures.js'
import {startRegistry} from '../test/support/registry.js'
import {measureInterleaved, table} from './lib.js'

const runs = Number(process.env.BENCH_RUNS ?? 21)
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const reg = await startRegistry({flavour: 'plain'})
try {
  await pushFixture(reg, 'bench/small:v1', 'oci', 'bench-startup')
  const ref = `${reg.host}/bench/small:v1`
  const m = await measureInterleaved(
    {
      node: [process.execPath, ['-e', '0']],
      version: [process.execPath, [bin, '--version']],
      digest: [process.execPath, [bin, 'digest', ref]],
      manifest: [process.execPath, [bin, 'manifest', ref]],
      skopeoRaw: ['skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]],
      skopeoInspect: ['skopeo', ['inspect', '--format', '{{.Digest}}', '--tls-verify=false', `docker://${ref}`]],
    },
    runs,
  )
  const {node, version, digest, manifest, skopeoRaw, skopeoInspect} = m
  const rows = [
    {what: 'node -e 0 (floor)', 'median ms': node.toFixed(0), target: '', 'vs skopeo inspect --raw': ''},
    {what: 'ocitool --version', 'median ms': version.toFixed(0), target: '< 150', 'vs skopeo inspect --raw': ''},
    {what: 'ocitool digest', 'median ms': digest.toFixed(0), target: '< 250', 'vs skopeo inspect --raw': (digest / skopeoRaw).toFixed(2)},
    {what: 'ocitool manifest', 'median ms': manifest.toFixed(0), target: '', 'vs skopeo inspect --raw': (manifest / skopeoRaw).toFixed(2)},
    {what: 'skopeo inspect --raw', 'median ms': skopeoRaw.toFixed(0), target: '', 'vs skopeo inspect --raw': '1.00'},
    {what: 'skopeo inspect --format {{.Digest}}', 'median ms': skopeoInspect.toFixed(0), target: '', 'vs skopeo inspect --raw': (skopeoInspect / skopeoRaw).toFixed(2)},
  ]
  console.log(`startup bench, ${runs} runs each (medians), node ${process.version}\n`)
  console.log(table(rows))
} finally {
  await reg.stop()
}
