/**
 * oci-archive: an OCI image layout in a tar (`oci-archive:FILE[:TAG]`) as a Source and a Sink.
 * See oci-archive-source.ts and oci-archive-sink.ts.
 */
export {OciArchiveSource, type OciArchiveSourceOptions} from './oci-archive-source.js'
export {OciArchiveSink, type OciArchiveSinkOptions} from './oci-archive-sink.js'
export {type AnnotateRef, REF_NAME_ANNOTATION, refNameFor, tagOfName} from './oci-archive-format.js'
