/**
 * journal: what a sync has finished, kept in a state file (`sync --state FILE`) so the next run
 * (after a crash, SIGKILL included, or tomorrow's) goes on from there. The file is append-only
 * JSON lines, each written whole with one write(2) on a file opened O_APPEND: a process killed
 * at any point leaves at worst a torn last line, which the reader skips. Lines:
 *   {"image": DEST, "tag": T, "digest": D}          the image is at DEST:T (tagged last)
 *   {"upload": REPO, "digest": D, "location": U, "offset": N}   a chunked upload's session so far
 *   {"uploaded": REPO, "digest": D}                 that upload was committed
 *   {"probe": REGISTRY, "answers": {...}}           what the registry said it can do (strategy.ts)
 *   {"started": DEST}                              blobs went to a repository that was new (a
 *                                                  later run asks it which it has: HEADs)
 * Without a file the same object keeps upload sessions in memory (a blob retried in the same
 * run resumes too).
 */
import * as fs from 'node:fs'
import {OcitoolError} from '../errors.js'
import type {UploadSessions} from '../remote/upload.js'
import type {SyncJournal} from './run.js'
import type {AnswerCache, Answers} from './strategy.js'

type Line =
  | {image: string; tag: string; digest: string}
  | {upload: string; digest: string; location: string; offset: number}
  | {uploaded: string; digest: string}
  | {probe: string; answers: Answers}
  | {started: string}

export class Journal implements SyncJournal, UploadSessions, AnswerCache {
  private readonly images = new Map<string, string>()
  private readonly answers = new Map<string, Answers>()
  /** repositories an earlier run started writing to; and those this run did */
  private readonly startedBefore = new Set<string>()
  private readonly startedNow = new Set<string>()
  private readonly uploads = new Map<string, string>()
  private fd: number | undefined

  private constructor(readonly file?: string) {}

  /** open reads FILE (when it exists) and appends to it from now on; no file: memory only */
  static open(file?: string): Journal {
    const j = new Journal(file)
    if (!file) return j
    let text = ''
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new OcitoolError(`state file ${file}: ${(e as Error).message}`, {code: 'STATE', cause: e})
    }
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue
      let line: Line
      try {
        line = JSON.parse(raw) as Line
      } catch {
        continue // a torn last line from a killed run
      }
      j.apply(line)
    }
    try {
      j.fd = fs.openSync(file, 'a')
    } catch (e) {
      throw new OcitoolError(`state file ${file}: ${(e as Error).message}`, {code: 'STATE', cause: e})
    }
    // a torn last line gets its own line ended, so the next record starts clean
    if (text !== '' && !text.endsWith('\n')) fs.writeSync(j.fd, '\n')
    return j
  }

  private apply(line: Line): void {
    if ('image' in line && typeof line.tag === 'string') this.images.set(`${line.image}:${line.tag}`, line.digest)
    else if ('upload' in line && typeof line.location === 'string') this.uploads.set(`${line.upload}@${line.digest}`, line.location)
    else if ('uploaded' in line) this.uploads.delete(`${line.uploaded}@${line.digest}`)
    else if ('started' in line && typeof line.started === 'string') this.startedBefore.add(line.started)
    else if ('probe' in line && typeof line.answers === 'object' && line.answers !== null) this.answers.set(line.probe, line.answers)
  }

  private write(line: Line): void {
    this.apply(line)
    if (this.fd !== undefined) fs.writeSync(this.fd, `${JSON.stringify(line)}\n`)
  }

  known(dest: string, tag: string, digest: string): boolean {
    return this.images.get(`${dest}:${tag}`) === digest
  }

  async done(dest: string, tag: string, digest: string): Promise<void> {
    this.write({image: dest, tag, digest})
  }

  get(repository: string, digest: string): string | undefined {
    return this.uploads.get(`${repository}@${digest}`)
  }

  save(repository: string, digest: string, location: string, offset: number): void {
    this.write({upload: repository, digest, location, offset})
  }

  clear(repository: string, digest: string): void {
    if (this.uploads.has(`${repository}@${digest}`)) this.write({uploaded: repository, digest})
  }

  /** fresh: is `dest` (new at the destination) untouched by earlier runs? Records that this run writes to it. */
  fresh(dest: string): boolean {
    if (this.startedBefore.has(dest)) return false
    if (!this.startedNow.has(dest)) {
      this.startedNow.add(dest)
      if (this.fd !== undefined) fs.writeSync(this.fd, `${JSON.stringify({started: dest})}\n`)
    }
    return true
  }

  answersFor(registry: string): Answers | undefined {
    return this.answers.get(registry)
  }

  saveAnswers(registry: string, answers: Answers): void {
    this.write({probe: registry, answers})
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd)
    this.fd = undefined
  }
}
