#!/usr/bin/env node
// Production entry: runs the compiled commands in dist/ (npm run build).
import {main} from '../dist/cli/main.js'

await main(import.meta.url)
