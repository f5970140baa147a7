/**
 * docker-archive: `docker save` tarballs (`docker-archive:FILE[:REF]`) as a Source and a Sink.
 * See docker-archive-source.ts, docker-archive-image.ts and docker-archive-sink.ts.
 */
export {DockerArchiveSource, type DockerArchiveSourceOptions} from './docker-archive-source.js'
export {DockerArchiveSink, type DockerArchiveSinkOptions, entryNameFor} from './docker-archive-sink.js'
export {
  type ArchiveImage,
  DIGEST_SENTINEL_TAG,
  MANIFEST_JSON,
  OCITOOL_MANIFEST_KEY,
  parseManifestJson,
  repoTagOf,
} from './docker-manifest.js'
