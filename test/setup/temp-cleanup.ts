import {afterAll} from 'vitest'

import {removeTempDirs} from '../helpers/temp.js'

// Registered before any test file's own hooks; vitest runs afterAll hooks last-registered first,
// so this one runs after the file has stopped whatever it started in its folders.
afterAll(() => {
  removeTempDirs()
})
