/**
 * tarball: images in tar files, read in place (random access, nothing extracted) and written
 * as a stream: `docker save` archives and OCI layouts in a tar. The only place that imports
 * tar-stream.
 */
export * from './docker-archive.js'
export * from './oci-archive.js'
export {LegacyDockerArchiveSink} from './legacy-sink.js'
export {TarReader, type TarEntry, type TarEntryType, normalizeName} from './reader.js'
export {TarWriter} from './tar-writer.js'
export {detectCompression, gzipLayer, measureGzip, type FileCompression} from './compression.js'
