#!/usr/bin/env -S node --import tsx
// Development entry: runs the TypeScript sources directly (needs tsx); bin/run.js is what users run.
import {main} from '../src/cli/main.ts'

await main(import.meta.url, process.argv.slice(2), {development: true})
