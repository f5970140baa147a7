/** flags: flag definitions shared by several commands, with crane's names. */
import {Flags} from '@oclif/core'
import {parsePlatform} from '../oci/platform.js'

/** --platform os/arch[/variant][:os.version]: picks a child of an index. */
export const platform = Flags.custom({
  description: 'pick the manifest for this platform from an index (os/arch[/variant])',
  helpValue: 'OS/ARCH[/VARIANT]',
  parse: async (input: string) => parsePlatform(input),
})

export const fullRef = Flags.boolean({description: 'print the full reference (registry/repository@digest or :tag)'})
