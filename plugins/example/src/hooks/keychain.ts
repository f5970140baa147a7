import type {Hook, Interfaces} from '@oclif/core'
import type {auth} from 'ocitool'
import type {OcitoolHooks} from 'ocitool/cli'

/**
 * The `keychain` hook: answers a Keychain for the registry ocitool asks about (or undefined).
 * This one reads EXAMPLE_REGISTRY (host[:port]), EXAMPLE_USERNAME and EXAMPLE_PASSWORD;
 * EXAMPLE_KEYCHAIN_FAIL=1 makes it throw, to show that a failing plugin is only a warning.
 */
const hook: Hook<'keychain', Interfaces.Hooks & OcitoolHooks> = async function ({registry}) {
  if (process.env.EXAMPLE_KEYCHAIN_FAIL) throw new Error('example keychain failed on purpose')
  const {EXAMPLE_REGISTRY: host, EXAMPLE_USERNAME: username, EXAMPLE_PASSWORD: password} = process.env
  if (!host || registry !== host || !username || !password) return undefined
  const keychain: auth.Keychain = {
    name: 'example',
    async resolve() {
      return {credential: {kind: 'basic', username, password}, source: 'EXAMPLE_USERNAME/EXAMPLE_PASSWORD'}
    },
  }
  return keychain
}

export default hook
