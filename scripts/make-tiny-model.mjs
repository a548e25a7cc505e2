#!/usr/bin/env node
// Regenerates fixtures/models/qis-tiny-bert: a BERT-shaped ONNX model (~17 KB) plus WordPiece
// tokenizer files, laid out like a Hugging Face repo, so tests can drive the real
// @xenova/transformers loading path with remote models off (the hub is unreachable in CI).
// It is not a language model: word vectors are seeded random numbers, so texts that share
// words embed closer than texts that do not, which is all the tests need.
//
// Usage: node scripts/make-tiny-model.mjs [outDir] [--hidden N]
//
// --hidden (default 16, the fixture's) sets the width. test/embed/transformers.test.ts builds a
// 256-wide copy in a temp folder: from that width on, onnxruntime's sums come out differently for
// a text padded in a batch than for the text alone, which the embedder's grouping must hide.
import {mkdirSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {fileURLToPath} from 'node:url'

const require = createRequire(import.meta.url)
// onnx-proto comes with onnxruntime-web (a dependency of @xenova/transformers): the ONNX protobuf schema, compiled.
const {onnx} = require('onnx-proto')

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: opt, positionals} = parseArgs({options: {hidden: {type: 'string', default: '16'}}, allowPositionals: true})
const outDir = path.resolve(positionals[0] ?? path.join(root, 'fixtures/models/qis-tiny-bert'))
const HIDDEN = Number(opt.hidden)
if (!(Number.isInteger(HIDDEN) && HIDDEN >= 1)) throw new Error(`--hidden ${opt.hidden}: expected a positive integer`)

// splitmix32: deterministic weights, so the fixture regenerates byte for byte.
let state = 0x5eed
function rand() {
  state = (state + 0x9e3779b9) >>> 0
  let z = state
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
  return ((z ^ (z >>> 16)) >>> 0) / 4294967296 - 0.5
}

const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
const words = (
  'the a an of to in and or is are was be it this that for on with as by at from how what why who when where which ' +
  'do does can i you my your we password reset account login email change forgot help order refund ship shipping ' +
  'price cost buy cancel subscription weather rain today tomorrow cat dog music song play movie python code error ' +
  'bug install update delete file question answer law medicine health doctor money bank'
).split(' ')
const letters = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('')
const punct = '.,?!\'"-:;()'.split('')
const vocabList = [...special, ...words, ...letters, ...letters.map((c) => `##${c}`), ...punct]
const vocab = Object.fromEntries(vocabList.map((t, i) => [t, i]))
const V = vocabList.length

function tensor(name, dims, values) {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: Buffer.from(Float32Array.from(values).buffer),
  })
}
const int64Tensor = (name, values) =>
  onnx.TensorProto.create({name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values})
const randn = (n, scale) => Array.from({length: n}, () => rand() * scale)
const io = (name, elemType, dims) =>
  onnx.ValueInfoProto.create({
    name,
    type: {tensorType: {elemType, shape: {dim: dims.map((d) => (typeof d === 'string' ? {dimParam: d} : {dimValue: d}))}}},
  })
const node = (opType, input, output, attribute = []) => onnx.NodeProto.create({opType, input, output, attribute, name: output[0]})

const INT64 = onnx.TensorProto.DataType.INT64
const FLOAT = onnx.TensorProto.DataType.FLOAT
const graph = onnx.GraphProto.create({
  name: 'qis-tiny-bert',
  initializer: [
    tensor('word_embeddings', [V, HIDDEN], randn(V * HIDDEN, 2)),
    tensor('token_type_embeddings', [2, HIDDEN], randn(2 * HIDDEN, 0.2)),
    tensor('dense_weight', [HIDDEN, HIDDEN], randn(HIDDEN * HIDDEN, 0.5)),
    tensor('dense_bias', [HIDDEN], randn(HIDDEN, 0.1)),
    tensor('query_weight', [HIDDEN, HIDDEN], randn(HIDDEN * HIDDEN, 0.5)),
    tensor('key_weight', [HIDDEN, HIDDEN], randn(HIDDEN * HIDDEN, 0.5)),
    tensor('value_weight', [HIDDEN, HIDDEN], randn(HIDDEN * HIDDEN, 0.5)),
    tensor('score_scale', [], [1 / Math.sqrt(HIDDEN)]),
    tensor('one', [], [1]),
    tensor('mask_fill', [], [-10000]),
    int64Tensor('unsqueeze_axes', [-1]),
    int64Tensor('key_axes', [1]),
  ],
  input: [
    io('input_ids', INT64, ['batch', 'sequence']),
    io('attention_mask', INT64, ['batch', 'sequence']),
    io('token_type_ids', INT64, ['batch', 'sequence']),
  ],
  output: [io('last_hidden_state', FLOAT, ['batch', 'sequence', HIDDEN])],
  node: [
    node('Gather', ['word_embeddings', 'input_ids'], ['words']),
    node('Gather', ['token_type_embeddings', 'token_type_ids'], ['types']),
    node('Add', ['words', 'types'], ['embedded']),
    node('MatMul', ['embedded', 'dense_weight'], ['projected']),
    node('Add', ['projected', 'dense_bias'], ['biased']),
    node('Tanh', ['biased'], ['activated']),
    node('Cast', ['attention_mask'], ['mask_float'], [onnx.AttributeProto.create({name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT})]),
    // One head of self-attention, as in BERT: padded positions get -10000 before the softmax, so
    // a text's row depends on the padding only through float rounding (sums over the sequence).
    node('MatMul', ['activated', 'query_weight'], ['queries']),
    node('MatMul', ['activated', 'key_weight'], ['keys']),
    node('MatMul', ['activated', 'value_weight'], ['values']),
    node('Transpose', ['keys'], ['keys_t'], [onnx.AttributeProto.create({name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 1]})]),
    node('MatMul', ['queries', 'keys_t'], ['raw_scores']),
    node('Mul', ['raw_scores', 'score_scale'], ['scores']),
    node('Sub', ['one', 'mask_float'], ['mask_off']),
    node('Mul', ['mask_off', 'mask_fill'], ['mask_bias_2d']),
    node('Unsqueeze', ['mask_bias_2d', 'key_axes'], ['mask_bias']),
    node('Add', ['scores', 'mask_bias'], ['masked_scores']),
    node('Softmax', ['masked_scores'], ['attention'], [onnx.AttributeProto.create({name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1})]),
    node('MatMul', ['attention', 'values'], ['context']),
    node('Add', ['activated', 'context'], ['attended']),
    node('Unsqueeze', ['mask_float', 'unsqueeze_axes'], ['mask_3d']),
    node('Mul', ['attended', 'mask_3d'], ['last_hidden_state']),
  ],
})
const model = onnx.ModelProto.create({
  irVersion: 7,
  producerName: 'qis scripts/make-tiny-model.mjs',
  opsetImport: [{domain: '', version: 13}],
  graph,
})
const bytes = onnx.ModelProto.encode(model).finish()

const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: special.map((content, id) => ({content, id, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true})),
  normalizer: {type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true},
  pre_tokenizer: {type: 'BertPreTokenizer'},
  post_processor: {
    type: 'TemplateProcessing',
    single: [{SpecialToken: {id: '[CLS]', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}}, {SpecialToken: {id: '[SEP]', type_id: 0}}],
    pair: [
      {SpecialToken: {id: '[CLS]', type_id: 0}},
      {Sequence: {id: 'A', type_id: 0}},
      {SpecialToken: {id: '[SEP]', type_id: 0}},
      {Sequence: {id: 'B', type_id: 1}},
      {SpecialToken: {id: '[SEP]', type_id: 1}},
    ],
    special_tokens: {
      '[CLS]': {id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]']},
      '[SEP]': {id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]']},
    },
  },
  decoder: {type: 'WordPiece', prefix: '##', cleanup: true},
  model: {type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab},
}
const tokenizerConfig = {
  tokenizer_class: 'BertTokenizer',
  do_lower_case: true,
  model_max_length: 128,
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  unk_token: '[UNK]',
  mask_token: '[MASK]',
}
const config = {
  _name_or_path: 'qis-tiny-bert',
  architectures: ['BertModel'],
  model_type: 'bert',
  hidden_size: HIDDEN,
  num_hidden_layers: 1,
  num_attention_heads: 1,
  intermediate_size: HIDDEN,
  max_position_embeddings: 128,
  type_vocab_size: 2,
  vocab_size: V,
  pad_token_id: 0,
}

mkdirSync(path.join(outDir, 'onnx'), {recursive: true})
writeFileSync(path.join(outDir, 'onnx', 'model.onnx'), bytes)
writeFileSync(path.join(outDir, 'tokenizer.json'), JSON.stringify(tokenizer, null, 1) + '\n')
writeFileSync(path.join(outDir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2) + '\n')
writeFileSync(path.join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n')
writeFileSync(
  path.join(outDir, 'README.md'),
  '# qis-tiny-bert\n\nTest fixture generated by `node scripts/make-tiny-model.mjs`: a BERT-shaped ONNX graph ' +
    '(word + token-type embeddings, one dense tanh layer, one head of masked self-attention) with seeded random ' +
    'weights and a small WordPiece ' +
    'vocabulary. It exercises the real @xenova/transformers loading path offline; it is not a language model.\n',
)
console.log(`wrote ${outDir} (model.onnx ${bytes.length} bytes, vocab ${V})`)
