/**
 * oci-layout: the OCI image layout directory store (`oci:DIR[:TAG]`): a Source that reads the
 * manifests `index.json` names, and a Sink that adds images to a new or existing layout.
 *
 * https://github.com/opencontainers/image-spec/blob/main/image-layout.md
 */
export {OciLayoutSource, type OciLayoutSourceOptions} from './oci-layout-source.js'
export {OciLayoutSink, type OciLayoutSinkOptions, type AnnotateRef} from './oci-layout-sink.js'
export {REF_NAME_ANNOTATION, LAYOUT_VERSION, blobPath, tagOfName} from './oci-layout-format.js'
