#!/usr/bin/env node
// npm run bench [-- NAME...]: runs bench/NAME.ts (all when none is named). Build first.
// crane (CRANE=path, default /tmp/crane-v0.20.2/crane) is measured beside ocitool when present.
// bench/http-client is a micro-bench of the HTTP layer against undici (when installed).
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const dir = fileURLToPath(new URL('.', import.meta.url))
const all = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'lib.ts' && f !== 'images.ts').map((f) => f.replace(/\.ts$/, ''))
const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : all
for (const name of names) {
  console.log(`\n== bench/${name} ==`)
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${name}.ts`], {stdio: 'inherit'})
  if (r.status !== 0) process.exit(r.status ?? 1)
}
