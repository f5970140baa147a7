/**
 * flatten: an image's layers applied into one filesystem. `flatten` writes it as one tar
 * (export, flatten); `applyLayer` builds it as a tree of file metadata (diff --files). Layer
 * blobs are any compression (tarball/decompress.ts); the rules of whiteouts, hard links and
 * paths that leave the root are in plan.ts (names and symlinks inside the root: paths.ts).
 * Nothing outside this directory imports its files.
 */
export {type FlattenLayer, type FlattenOptions, type FlattenResult, LAYER_PIECE, flatten} from './flatten.js'
export {type FileInfo, type FileTree, applyLayer, sameFile} from './layer-files.js'
export {normalizeEntryPath} from './paths.js'
