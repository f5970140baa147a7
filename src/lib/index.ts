/**
 * ocitool as a library: what plugins and other programs import (`import * as ocitool from 'ocitool'`).
 * Commands and oclif helpers are under `ocitool/cli`.
 */
export * from './errors.js'
export * as name from './name/reference.js'
export * as digest from './oci/digest.js'
export * as mediaTypes from './oci/media-types.js'
export * as platform from './oci/platform.js'
export * as manifest from './oci/manifest.js'
export type * from './oci/types.js'
export * as auth from './auth/index.js'
export {Session, withSession, type RemoteOptions, type RepositoryLocation} from './remote/session.js'
export {RepositoryClient, type ManifestResult, type ManifestHead} from './remote/registry.js'
export {verify, VerifyStream} from './io/verify.js'
export * as ops from './ops/index.js'
export * as stores from './stores/index.js'
export * as transfer from './transfer/index.js'
export * as layout from './layout/index.js'
export * as serve from './serve/index.js'
