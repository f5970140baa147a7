// The pacer (issue 12, item 7): fewer requests at once while a registry sheds load, growing back
// on success; pauses for Retry-After; Docker Hub's rate-limit headers read and explained.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {Pacer, duration, rateLimit, throttleText} from '../../../src/lib/remote/transport/pacer.js'
import {waitAsked} from '../../../src/lib/remote/transport/http.js'

describe('Pacer', () => {
  it('halves its window once per throttled window and grows back by one per window of successes', async () => {
    const p = new Pacer(8)
    assert.equal(p.limit, 8)
    const first = await Promise.all(Array.from({length: 8}, () => p.acquire()))
    first[0](503)
    assert.equal(p.limit, 4)
    // answers to requests sent before the decrease are old news: no second halving
    first[1](503)
    first[2](429)
    assert.equal(p.limit, 4)
    for (const r of first.slice(3)) r(200)
    assert.equal(p.limit, 5, 'five successes at window 4: +1.25')
    const second = await p.acquire()
    second(503)
    assert.equal(p.limit, 2)
    const third = await p.acquire()
    third(429)
    assert.equal(p.limit, 1)
    ;(await p.acquire())(200)
    assert.equal(p.limit, 2, 'one window of successes: +1')
    for (let i = 0; i < 2; i++) (await p.acquire())(201)
    assert.equal(p.limit, 3)
    for (let i = 0; i < 100; i++) (await p.acquire())(200)
    assert.equal(p.limit, 8, 'never past its maximum')
  })

  it('never lets more than its window await an answer', async () => {
    const p = new Pacer(4)
    const held = await Promise.all(Array.from({length: 4}, () => p.acquire()))
    held[0](503) // window 2, three still out
    let got = 0
    const more = Array.from({length: 3}, () => p.acquire().then((r) => (got++, r)))
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(got, 0, 'three out, window two: nobody gets in')
    held[1](200)
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(got, 0, 'two out, window two and a half: nobody')
    held[2](200)
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(got, 2, 'one out, window three: two more')
    held[3](200)
    const rest = await Promise.all(more)
    assert.equal(got, 3)
    for (const r of rest) r(200)
  })

  it('holds every request while paused, and an abort ends the wait', async () => {
    const p = new Pacer(4)
    p.pause(80)
    const started = Date.now()
    ;(await p.acquire())(200)
    assert.ok(Date.now() - started >= 70, `waited ${Date.now() - started} ms`)
    p.pause(10_000)
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 20)
    await assert.rejects(p.acquire(stop.signal), {code: 'INTERRUPTED'})
  })
})

describe('rate-limit headers', () => {
  it('reads Docker Hub ratelimit-limit / ratelimit-remaining', () => {
    assert.deepEqual(rateLimit({'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600'}), {limit: 100, remaining: 0, windowSeconds: 21600})
    assert.deepEqual(rateLimit({'ratelimit-limit': '200', 'ratelimit-remaining': '76;w=60'}), {limit: 200, remaining: 76, windowSeconds: 60})
    assert.equal(rateLimit({}), undefined)
    assert.equal(rateLimit({'ratelimit-remaining': 'lots'}), undefined)
  })
  it('waitAsked: Retry-After first, else an exhausted window', () => {
    assert.equal(waitAsked({headers: {'retry-after': '3', 'ratelimit-remaining': '0;w=60'}}), 3000)
    assert.equal(waitAsked({headers: {'ratelimit-remaining': '0;w=60'}}), 60_000)
    assert.equal(waitAsked({headers: {'ratelimit-remaining': '5;w=60'}}), undefined)
    assert.equal(waitAsked({headers: {}}), undefined)
  })
  it('explains a wait too long to make', () => {
    assert.equal(
      throttleText({'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600'}, 21_600_000, false),
      'rate limit reached (100 requests per 6 h, none left); try again within 6 h',
    )
    assert.equal(throttleText({}, 7_200_000, true), 'asks to wait 2 h (Retry-After), longer than ocitool waits; try again in 2 h')
    assert.deepEqual([duration(45), duration(90 * 60), duration(21600)], ['45 s', '90 min', '6 h'])
  })
})
