/**
 * image-layers: an image's layers as flatten() reads them, for export and flatten: each opened
 * from the source, verified against its digest as it streams, in LAYER_PIECE pieces.
 */
import {type Readable, pipeline} from 'node:stream'

import {type FlattenLayer, LAYER_PIECE} from '../flatten/index.js'
import {reclaim} from '../io/reclaim.js'
import {verify} from '../io/verify.js'
import type {Descriptor} from '../oci/types.js'
import type {Source} from '../stores/types.js'

/**
 * imageLayers: `layers` (bottom first) of `source`. A registry's socket pieces are dead once
 * grouped into LAYER_PIECE ones, so they are collected young (io/reclaim.ts; export of the 384
 * MiB bench image: 15k -> 13.5k page faults, 1.28-1.39 -> 1.25-1.29 s). A file's are not: its
 * pieces still in flight would be promoted (flatten --tarball of that image: 0.98-1.06 s with
 * early collections against 1.21-1.26 s), as the transfer engine found for pull.
 */
export function imageLayers(source: Source, layers: readonly Descriptor[]): FlattenLayer[] {
  return layers.map((d, i) => ({
    what: `layer ${i + 1}/${layers.length} ${d.digest}`,
    size: d.size,
    open: async () => pipeline(await source.blob(d), verify(d.digest, d.size, {what: `layer ${d.digest} from ${source.description}`, coalesce: LAYER_PIECE, onBytes: source.socketBlobs ? reclaim : undefined}), () => {}) as Readable,
  }))
}
