import type {ConfigKey} from '../config/config.js'

/**
 * Every environment variable qis reads, in one list: flag help, `qis config` and the README name
 * them from here.
 *
 * Two kinds. A setting that lives in config.json (bootstrap, listen, domain focus, the model folder)
 * takes its variable through the config layer (default < config file < env < flag), so `qis config`
 * can say where a value came from and `qis init` never writes a shell's variable into the file;
 * its flag has no oclif `env:` binding. A flag that is only about this invocation (--home) binds
 * its variable directly.
 */
export const ENV = {
  home: {name: 'QIS_HOME', means: 'home folder, as --home (default ~/.qis)'},
  bootstrap: {name: 'QIS_BOOTSTRAP', means: 'bootstrap multiaddrs, comma-separated; overrides the config, a flag overrides it', config: 'bootstrap'},
  listen: {name: 'QIS_LISTEN', means: 'multiaddrs qis node listens on, comma-separated; overrides the config', config: 'listen'},
  domainFocus: {name: 'QIS_DOMAIN_FOCUS', means: 'domain focus labels, comma-separated; overrides the config', config: 'domainFocus'},
  modelDir: {name: 'QIS_MODEL_DIR', means: 'model folder; implies the transformers embedder; overrides the config', config: 'embedder'},
  swarmKey: {name: 'QIS_SWARM_KEY', means: 'file holding the private swarm key; default <home>/swarm.key when it exists'},
  useLiteRuntime: {name: 'QIS_USE_LITE_RUNTIME', means: 'where the use-lite model runs: onnx (native, the default) or tfjs (the fallback when onnxruntime cannot load)'},
  json: {name: 'QIS_CONTENT_TYPE', means: 'set to "json" for --json on every command that has it (oclif reads it)'},
  debug: {name: 'QIS_DEBUG', means: 'set to 1 to print the stack trace of an unexpected error'},
  noColor: {name: 'NO_COLOR', means: 'any value turns colour off (https://no-color.org)'},
} as const satisfies Record<string, {name: string; means: string; config?: ConfigKey}>

/** The variable that overrides each config key, for `qis config`'s SOURCE column and loadConfig. */
export const CONFIG_ENV: Partial<Record<ConfigKey, string>> = Object.fromEntries(
  Object.values(ENV).flatMap((e) => ('config' in e ? [[e.config, e.name]] : [])),
)

/** How a flag's help names its variable: "Default: $QIS_BOOTSTRAP, then the config." */
export const envRef = (key: keyof typeof ENV): string => `$${ENV[key].name}`
