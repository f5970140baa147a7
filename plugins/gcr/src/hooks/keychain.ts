import type {Hook, Interfaces} from '@oclif/core'
import type {OcitoolHooks} from 'ocitool/cli'
import {GcrKeychain, isGoogleRegistry} from '../lib/keychain.js'

let keychain: GcrKeychain | undefined

/** The `keychain` hook: a GcrKeychain for Google's registries (see lib/keychain.ts), nothing for others. */
const hook: Hook<'keychain', Interfaces.Hooks & OcitoolHooks> = async function ({registry}) {
  if (!isGoogleRegistry(registry)) return undefined
  keychain ??= new GcrKeychain((m) => process.stderr.write(`Warning: ${m}\n`))
  return keychain
}

export default hook
