// The base command lives in the CLI kit; this path stays for the commands that import it from here.
export {BaseCommand, type BaseArgs, type BaseFlags} from './cli/command.js'
