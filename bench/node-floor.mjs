// node-floor: the least a Node program does to copy blobs between two registries over node:http:
// for each blob a GET from the source piped into a monolithic PUT at the destination, JOBS at
// once, nothing hashed, no manifests, no retries. bench/transfer.ts times it beside ocitool and
// crane: what Node's HTTP stack itself costs on this machine is the floor any Node tool stands on.
// With DST_URL `file:DIR` each blob is written to DIR/<hex> instead (the floor of a pull).
// usage: node bench/node-floor.mjs SRC_URL SRC_REPO DST_URL DST_REPO DIGEST...   (JOBS, default 4)
import {createWriteStream} from 'node:fs'
import http from 'node:http'
import {pipeline} from 'node:stream/promises'

const [src, srcRepo, dst, dstRepo, ...digests] = process.argv.slice(2)
const jobs = Number(process.env.JOBS ?? 4)
const agent = new http.Agent({keepAlive: true, maxSockets: jobs * 2})

function request(url, options, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {agent, ...options}, resolve)
    req.on('error', reject)
    if (body) body.pipe(req)
    else req.end()
  })
}

async function drain(res) {
  for await (const _ of res) void _
}

async function copy(digest) {
  const got = await request(`${src}/v2/${srcRepo}/blobs/${digest}`, {method: 'GET'})
  if (got.statusCode !== 200) throw new Error(`GET ${digest}: ${got.statusCode}`)
  if (dst.startsWith('file:')) return pipeline(got, createWriteStream(`${dst.slice(5)}/${digest.slice(7)}`, {highWaterMark: 1 << 20}))
  const started = await request(`${dst}/v2/${dstRepo}/blobs/uploads/`, {method: 'POST', headers: {'content-length': 0}})
  await drain(started)
  const loc = new URL(started.headers.location, dst)
  loc.searchParams.set('digest', digest)
  const put = await request(loc, {method: 'PUT', headers: {'content-type': 'application/octet-stream', 'content-length': got.headers['content-length']}}, got)
  await drain(put)
  if (put.statusCode !== 201) throw new Error(`PUT ${digest}: ${put.statusCode}`)
}

const queue = [...digests]
await Promise.all(Array.from({length: jobs}, async () => {
  for (let d = queue.shift(); d; d = queue.shift()) await copy(d)
}))
agent.destroy()
