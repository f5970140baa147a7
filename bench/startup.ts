// Startup and a small registry round trip: `ocitool --version` and `ocitool digest` against a
// loopback distribution registry, next to `skopeo inspect` of the same image, in one run.
// crane digest (when crane is there: CRANE=path) too. Targets: --version median < 150 ms (issue 2),
// digest median ≤ 150 ms absolute (issue 14, where `node -e 0` took 94 ms: 56 ms over Node's own
// start, the column "over node"). `digest` takes the quick path (src/lib/cli/lean.ts); the row
// "digest, oclif's path" is the same command with OCITOOL_NO_LEAN=1, through `env`.
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
      digestOclif: ['env', ['OCITOOL_NO_LEAN=1', bin, 'digest', ref]],
      manifest: [bin, ['manifest', ref]],
      skopeoRaw: ['skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]],
      skopeoInspect: ['skopeo', ['inspect', '--format', '{{.Digest}}', '--tls-verify=false', `docker://${ref}`]],
      ...(crane ? {crane: [crane, ['digest', '--insecure', ref]] as [string, string[]]} : {}),
    },
    runs,
  )
  const {node, version, digest, digestOclif, manifest, skopeoRaw, skopeoInspect} = m
  const over = (x: number) => (x - node).toFixed(0)
  const vsCrane = (x: number) => (m.crane ? (x / m.crane).toFixed(2) : '')
  const row = (what: string, ms: number | undefined, target = '', overNode = true) => ({
    what,
    'median ms': ms === undefined ? '(no crane)' : ms.toFixed(0),
    'over node': ms !== undefined && overNode ? over(ms) : '',
    target,
    'vs skopeo inspect --raw': ms === undefined ? '' : (ms / skopeoRaw).toFixed(2),
    'vs crane digest': ms === undefined ? '' : vsCrane(ms),
  })
  const rows = [
    {...row('node -e 0 (floor)', node, '', false), 'vs skopeo inspect --raw': '', 'vs crane digest': ''},
    {...row('ocitool --version', version, '< 150'), 'vs skopeo inspect --raw': '', 'vs crane digest': ''},
    row('ocitool digest', digest, `≤ 150 (≤ 56 over node): ${digest <= 150 ? 'met' : 'MISSED'}, ${digest - node <= 56 ? 'met' : 'MISSED'}`),
    row("ocitool digest, oclif's path", digestOclif),
    row('ocitool manifest', manifest),
    row('crane digest', m.crane, '', false),
    row('skopeo inspect --raw', skopeoRaw, '', false),
    row('skopeo inspect --format {{.Digest}}', skopeoInspect, '', false),
  ]
  console.log(`startup bench, ${runs} runs each (medians of wall ms), node ${process.version}; ${craneNote}\n`)
  console.log(table(rows))
} finally {
  await reg.stop()
}
