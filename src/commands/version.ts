import {OcitoolCommand} from '../lib/cli/command.js'

export default class Version extends OcitoolCommand {
  static override summary = 'Print the version of ocitool'
  static override enableJsonFlag = true
  static override baseFlags = {} as typeof OcitoolCommand.baseFlags

  async run(): Promise<{version: string; node: string; platform: string}> {
    await this.parse(Version)
    const result = {version: this.config.version, node: process.version, platform: `${process.platform}/${process.arch}`}
    this.log(result.version)
    return result
  }
}
