import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Swarm and CLI tests start real processes; the machine has 2 slow cores, so keep files few at once.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // A private TMPDIR for the run, checked and removed at the end; each file's tempDir()s removed when it ends.
    globalSetup: ['test/setup/temp-root.ts'],
    setupFiles: ['test/setup/temp-cleanup.ts'],
  },
})
