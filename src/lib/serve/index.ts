/**
 * serve: an embedded OCI registry (`ocitool registry serve`). `startServer` is the whole API.
 */
export {startServer, type RunningServer, type ServeOptions} from './server.js'
export {DEFAULT_ADDRESS, parseAddress, type ListenAddress} from './address.js'
export {ApiError, ErrorCode} from './errors.js'
