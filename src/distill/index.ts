// qis distill as a library: logs in, signed outcome packets out (see docs/distill.md).
export {distill, defaultStoreName, rejectsPathFor, SKIP, DEFAULT_BATCH_SIZE, DEFAULT_TIME_RESOLUTION_SECONDS} from './pipeline.js'
export {RandomisedResponse, cryptoUniform, type UniformSource} from './ldp.js'
export {GroupTable, DEFAULT_MAX_GROUPS, type Group, type GroupKey} from './aggregate.js'
export {coarsen, formatDuration as formatResolution, parseDuration} from './time.js'
export {RejectsWriter, type RejectLine} from './rejects.js'
export type {DistillDeps, DistillRecord, HashPipeline as DistillHashPipeline, ReadItem} from './deps.js'
export type {DistillCounts, DistillOptions, DistillProgress, DistillSummary, StageTimes} from './types.js'
