/**
 * dir: skopeo's `dir:` transport (`dir:DIR`), one image or index per directory: `manifest.json`
 * holds the top manifest's exact bytes, each blob is a file named by its hex digest, an
 * index's children are `<hex>.manifest.json`, and `version` says
 * `Directory Transport Version: 1.1`. (This is not the `fast` format of google/containerregistry's
 * puller, which numbers layers `001.tar.gz` beside `config.json`.)
 */
export {DirSource} from './dir-source.js'
export {DirSink} from './dir-sink.js'
export {DIR_VERSION, DIR_MANIFEST_FILE, dirBlobPath, dirManifestPath} from './dir-format.js'
