/**
 * layout: image stores that are plain directories: the OCI image layout (`oci:DIR[:TAG]`) and
 * skopeo's `dir:` format. Each has a Source and a Sink (see stores/types.ts).
 */
export * from './oci-layout.js'
export * from './dir.js'
