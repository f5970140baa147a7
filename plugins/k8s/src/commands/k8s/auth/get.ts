import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from 'ocitool/cli'
import {K8sKeychain, optionsFromEnv} from '../../../lib/keychain.js'

/** `ocitool k8s auth get REGISTRY[/REPO]`: what the k8s keychain would answer, as JSON. */
export default class Get extends OcitoolCommand {
  static override summary = 'Print the credentials the k8s keychain resolves for a registry (secret redacted)'
  static override description =
    'Reads the imagePullSecrets of the service account and the named secrets, and picks the entry the kubelet would (exact host, wildcard subdomains, path prefixes; most specific wins). The flags override OCITOOL_K8S_NAMESPACE, OCITOOL_K8S_SERVICE_ACCOUNT and OCITOOL_K8S_SECRETS, which is how other commands are configured.'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/team/app --k8s-namespace ci --k8s-secret regcred']
  static override args = {registry: Args.string({required: true, description: 'registry host[:port], optionally with a repository path'})}
  static override flags = {
    'k8s-namespace': Flags.string({description: 'namespace of the service account and secrets [env: OCITOOL_K8S_NAMESPACE] (default: default)'}),
    'k8s-service-account': Flags.string({description: 'service account whose imagePullSecrets are read [env: OCITOOL_K8S_SERVICE_ACCOUNT] (default: default)'}),
    'k8s-secret': Flags.string({description: 'a pull secret to read as well (repeatable) [env: OCITOOL_K8S_SECRETS, comma-separated]', multiple: true}),
    'show-secret': Flags.boolean({description: 'print the password or token instead of <redacted>'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parseCommand(Get)
    const o = optionsFromEnv(process.env, (m) => this.warnLine(`k8s: ${m}`))
    const keychain = new K8sKeychain({
      ...o,
      namespace: flags['k8s-namespace'] ?? o.namespace,
      serviceAccount: flags['k8s-service-account'] ?? o.serviceAccount,
      secrets: flags['k8s-secret'] ?? o.secrets,
    })
    const target = args.registry.replace(/^[a-z]+:\/\//i, '')
    const entry = await keychain.find(target)
    if (!entry) {
      this.error(`no pull secret entry matches ${target}`, {exit: 1})
    }
    const c = entry.credential
    const hide = (s: string) => (flags['show-secret'] ? s : '<redacted>')
    const out: Record<string, string> = {registry: target, source: entry.source, key: entry.key, kind: c.kind}
    if (c.kind === 'basic') Object.assign(out, {username: c.username, password: hide(c.password)})
    else Object.assign(out, {...(c.kind === 'identityToken' && c.username ? {username: c.username} : {}), token: hide(c.token)})
    this.log(JSON.stringify(out, null, 2))
  }
}
