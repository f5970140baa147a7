/** ocitool/cli: the base command, shared flags and hook types, for plugin commands. */
export {OcitoolCommand} from './command.js'
export * as flags from './flags.js'
export {buildKeychain, PluginKeychain, type KeychainHookOptions, type OcitoolHooks} from './keychain.js'
