import type {Hook, Interfaces} from '@oclif/core'
import type {OcitoolHooks} from 'ocitool/cli'
import {K8sKeychain, hasClusterConfig, optionsFromEnv} from '../lib/keychain.js'

let keychain: K8sKeychain | undefined

/**
 * The `keychain` hook: a K8sKeychain when a cluster is configured (in-cluster, KUBECONFIG or
 * ~/.kube/config), configured from OCITOOL_K8S_NAMESPACE, OCITOOL_K8S_SERVICE_ACCOUNT and
 * OCITOOL_K8S_SECRETS. One keychain per process, so the secrets are read once.
 */
const hook: Hook<'keychain', Interfaces.Hooks & OcitoolHooks> = async function () {
  if (!hasClusterConfig(process.env)) return undefined
  keychain ??= new K8sKeychain(optionsFromEnv(process.env, (m) => process.stderr.write(`Warning: k8s: ${m}\n`)))
  return keychain
}

export default hook
