/** failure: how a command reports an error: exit code, code and one line of message. */
import {ExitCode, isOcitoolError} from '../errors.js'

export interface Failure {
  exitCode: number
  code: string
  /** one line */
  message: string
}

/**
 * describeFailure maps an error to its exit code, code and one-line message (the class's code
 * for ocitool's errors, oclif's for its own, 130 after an interrupt, 1 for anything else).
 */
export function describeFailure(err: Error & {oclif?: {exit?: number}}, aborted: boolean, commandLine?: string): Failure {
  if (isOcitoolError(err)) {
    let message = oneLine(aborted ? `interrupted: ${err.message}` : err.message)
    if (err.suggestions.length > 0) message += ` (${err.suggestions.join('; ')})`
    return {exitCode: aborted ? ExitCode.Interrupted : err.exitCode, code: aborted ? 'INTERRUPTED' : err.code, message}
  }
  if (err.oclif?.exit !== undefined) {
    // oclif's own: flag parsing, exit()
    let message = oneLine(err.message)
    if (err.oclif.exit === ExitCode.Usage && commandLine) message += ` (see: ${commandLine} --help)`
    return {exitCode: err.oclif.exit, code: 'USAGE', message}
  }
  if (aborted) return {exitCode: ExitCode.Interrupted, code: 'INTERRUPTED', message: 'interrupted'}
  return {exitCode: ExitCode.Other, code: 'ERROR', message: oneLine(err.message || String(err))}
}

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = s.replace(/\u001b\[[0-9;]*m/g, '')
  return plain
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^see more help with/i.test(l))
    .join('; ')
}
