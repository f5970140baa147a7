/**
 * open: from a parsed location to a Source or Sink. File stores load on demand, so a
 * registry-to-registry copy never loads tar code.
 */
import {stdinFile} from '../io/stdin-file.js'
import type {Session} from '../remote/session.js'
import type {Location} from './location.js'
import {RegistrySink, type RegistrySinkOptions, RegistrySource} from './registry.js'
import type {Sink, Source} from './types.js'

export interface SinkOptions extends RegistrySinkOptions {
  /** OCI layouts: what `org.opencontainers.image.ref.name` holds */
  annotateRef?: 'tag' | 'full' | 'none'
}

export async function openSource(loc: Location, session: Session): Promise<Source> {
  switch (loc.kind) {
    case 'registry':
      return new RegistrySource(session, loc.ref)
    case 'oci': {
      const {OciLayoutSource} = await import('../layout/index.js')
      return new OciLayoutSource(loc.path, {tag: loc.tag})
    }
    case 'dir': {
      const {DirSource} = await import('../layout/index.js')
      return new DirSource(loc.path)
    }
    case 'docker-archive': {
      const {DockerArchiveSource} = await import('../tarball/index.js')
      return new DockerArchiveSource(await inputPath(loc.path), {tag: loc.ref})
    }
    case 'oci-archive': {
      const {OciArchiveSource} = await import('../tarball/index.js')
      return new OciArchiveSource(await inputPath(loc.path), {tag: loc.tag})
    }
  }
}

export async function openSink(loc: Location, session: Session, options: SinkOptions = {}): Promise<Sink> {
  switch (loc.kind) {
    case 'registry':
      return new RegistrySink(session, loc.ref, options)
    case 'oci': {
      const {OciLayoutSink} = await import('../layout/index.js')
      return new OciLayoutSink(loc.path, {tag: loc.tag, annotateRef: options.annotateRef})
    }
    case 'dir': {
      const {DirSink} = await import('../layout/index.js')
      return new DirSink(loc.path)
    }
    case 'docker-archive': {
      const {DockerArchiveSink, LegacyDockerArchiveSink} = await import('../tarball/index.js')
      return loc.legacy ? new LegacyDockerArchiveSink(loc.path) : new DockerArchiveSink(loc.path)
    }
    case 'oci-archive': {
      const {OciArchiveSink} = await import('../tarball/index.js')
      // a REF written in the name (`oci-archive:FILE:localhost/app:1`) is kept whole
      return new OciArchiveSink(loc.path, {annotateRef: loc.tag !== undefined ? 'full' : options.annotateRef})
    }
  }
}

/** inputPath: an archive to read; `-` is stdin, spooled to a file (archives are read by random access). */
function inputPath(path: string): Promise<string> | string {
  return path === '-' ? stdinFile() : path
}

/** holdsSingleImages: sinks that cannot store an index (docker archives, `dir:` of one image). */
export function holdsSingleImages(loc: Location): boolean {
  return loc.kind === 'docker-archive'
}
