/**
 * serve: an embedded OCI registry (`ocitool registry serve`). `startServer` is the whole API.
 */
export {startServer, type RunningServer, type ServeOptions} from './server.js'
export {DEFAULT_ADDRESS, parseAddress, type ListenAddress} from './address.js'
export {ApiError, ErrorCode} from './errors.js'
export {DEFAULT_LIMITS, type ConnectionStats, type ServeLimits} from './limits.js'
export {MARKER as STORE_MARKER} from './store/layout.js'
