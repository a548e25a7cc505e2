import {BaseCommand} from '../../cli/command.js'
import {loadSwarmKey} from '../../swarm/pnet.js'

export interface SwarmKeyShowResult {
  /** False: no key, the node joins the open swarm. */
  private: boolean
  file?: string
  fingerprint?: string
}

export default class SwarmKeyShow extends BaseCommand<typeof SwarmKeyShow> {
  static summary = "Show which swarm key this home uses and its fingerprint (never the key)."
  static description = 'Reads the key the swarm commands would use ($QIS_SWARM_KEY, else <home>/swarm.key) and checks its format. Two nodes connect only if their fingerprints match.'
  static examples = ['<%= config.bin %> swarm-key show', '<%= config.bin %> swarm-key show --json']

  async run(): Promise<SwarmKeyShowResult> {
    const key = await loadSwarmKey(await this.home())
    if (!key) {
      this.log('No swarm key: this home joins the open swarm.')
      return {private: false}
    }
    this.log(`Swarm key ${key.file}, fingerprint ${key.fingerprint}.`)
    return {private: true, file: key.file, fingerprint: key.fingerprint}
  }
}
