/** auth: where credentials for a registry come from. See keychain.ts for the default order. */
export type {Credential, Env, Keychain, KeychainRequest, LogFn, ResolvedCredential} from './types.js'
export {
  dockerHubAliases,
  dockerHubAuthKey,
  dockerHubRegistry,
  isDockerHub,
  normalizeRegistryKey,
  sameRegistry,
} from './hosts.js'
export {StaticKeychain, staticKeychainFromFlags, type StaticKeychainOptions} from './static.js'
export {EnvKeychain, envVars, type EnvKeychainOptions} from './env.js'
export {
  DockerConfigKeychain,
  dockerConfigPath,
  helperFor,
  removeCredential,
  saveCredential,
  type CredentialLocation,
  type DockerConfigOptions,
  type HelperChoice,
} from './docker-config.js'
export {
  CredentialHelperNotFoundError,
  credentialFromHelper,
  helperErase,
  helperGet,
  helperList,
  helperStore,
  helperTimeoutMs,
  type HelperCredential,
  type HelperOptions,
} from './cred-helper.js'
export {
  ContainersAuthKeychain,
  containersAuthPaths,
  normalizeContainersKey,
  parseRepositoryScopes,
  primaryRepository,
  type ContainersAuthOptions,
  type RepositoryScope,
} from './containers-auth.js'
export {MultiKeychain, defaultKeychain, defaultKeychains, type DefaultKeychainOptions, type MultiKeychainOptions} from './keychain.js'
export {decodeBasicAuth, encodeBasicAuth} from './config-file.js'
