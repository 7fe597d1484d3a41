// The weights reader refuses what a weights file never needs and names the file when it cannot read one:
// pickles that import os.system (GLOBAL and STACK_GLOBAL, zip and legacy), whole pickled models, truncated
// and renamed files, unknown architectures. Wrappers and prefixes unwrap; fp16/bf16 and strided views decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zipSync } from 'fflate';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import { detectArchitecture, parseWeights, readWeightsFile, sniffWeightsFile, stripPrefixes, unpickle, unwrapStateDict } from '../../../src/main/engine/pytorch/index';
import { decodeTensor, type TorchTensor } from '../../../src/main/engine/pytorch/tensor';
import { FIXTURES } from './fixtures';

const dir = await mkdtemp(join(tmpdir(), 'studio-pytorch-'));
test.after(() => rm(dir, { recursive: true, force: true }));

const enc = new TextEncoder();
const bytes = (...parts: (number[] | string)[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...enc.encode(p)] : p)));

/** pickle of os.system("echo pwned") the way Python 3 writes it on Linux: GLOBAL "posix system", REDUCE. */
const OS_SYSTEM = bytes([0x80, 0x02], 'cposix\nsystem\n', [0x71, 0x00, 0x8c, 11], 'echo pwned', [0x85, 0x52, 0x2e]);
/** The same with protocol 4's STACK_GLOBAL (the module and name as strings on the stack). */
const OS_SYSTEM_4 = bytes([0x80, 0x04, 0x8c, 2], 'os', [0x8c, 6], 'system', [0x93, 0x8c, 4], 'true', [0x85, 0x52, 0x2e]);

async function rejects(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof StudioError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

async function put(name: string, data: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
}

test('a .pth whose pickle calls os.system is refused with a sentence naming the file and the global', async () => {
  const path = await put('model.pth', zipSync({ 'model/data.pkl': OS_SYSTEM, 'model/version': enc.encode('3\n') }));
  await rejects(readWeightsFile(path), 'BAD_INPUT', /^model\.pth: refuses to load: the file asks to run "posix\.system", which a weights file never needs\.$/);
  assert.equal(await sniffWeightsFile(path), 'pth');
});

test('STACK_GLOBAL is refused the same way, before anything is called', () => {
  assert.throws(
    () => unpickle(OS_SYSTEM_4, { file: 'evil.pth' }),
    (e: unknown) => e instanceof StudioError && e.code === 'BAD_INPUT' && /evil\.pth: refuses to load: the file asks to run "os\.system"/.test(e.message),
  );
});

test('a legacy .pth whose object pickle imports a module function is refused', async () => {
  // Magic number, protocol 1001, system info, then the object: builtins.eval.
  const magic = bytes([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
  const protocol = bytes([0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]);
  const info = bytes([0x80, 0x02, 0x7d, 0x2e]);
  const evil = bytes([0x80, 0x02], 'cbuiltins\neval\n', [0x8c, 1], '1', [0x85, 0x52, 0x2e]);
  const path = await put('old.pth', new Uint8Array([...magic, ...protocol, ...info, ...evil]));
  await rejects(readWeightsFile(path), 'BAD_INPUT', /^old\.pth: refuses to load: the file asks to run "builtins\.eval"/);
});

test('a checkpoint\'s bookkeeping (argparse.Namespace, numpy scalars) is kept as a name, never built', () => {
  // {"args": Namespace(lr=...), "best": numpy scalar, "params": {}} the way pickle writes them.
  const pickle = bytes(
    [0x80, 0x02, 0x7d, 0x28, 0x8c, 4], 'args', 'cargparse\nNamespace\n', [0x29, 0x81, 0x7d, 0x8c, 2], 'lr',
    [0x47, 0x3f, 0x1a, 0x36, 0xe2, 0xeb, 0x1c, 0x43, 0x2d, 0x73, 0x62, 0x8c, 4], 'best',
    'cnumpy.core.multiarray\nscalar\n', [0x8c, 1], 'x', [0x85, 0x52, 0x8c, 6], 'params', [0x7d, 0x75, 0x2e],
  );
  const { value } = unpickle(pickle, { file: 'ckpt.pth' });
  const map = (value as unknown as { map: Map<string, unknown> }).map;
  assert.deepEqual(map.get('args'), { kind: 'object', of: 'argparse.Namespace' });
  assert.deepEqual(map.get('best'), { kind: 'object', of: 'numpy.core.multiarray.scalar' });
  assert.ok(map.has('params'));
});

test('a whole pickled model (a class from the author\'s code) is refused with the advice to save its state dict', async () => {
  const pickle = bytes([0x80, 0x02], 'c__main__\nRRDBNet\n', [0x29, 0x81, 0x2e]);
  const path = await put('whole-model.pth', zipSync({ 'archive/data.pkl': pickle }));
  await rejects(readWeightsFile(path), 'BAD_INPUT', /whole-model\.pth: refuses to load: the file asks to run "__main__\.RRDBNet".*save model\.state_dict\(\) instead/);
});

test('a TorchScript archive (torch.jit.save) is refused as holding code, not weights', async () => {
  const path = await put(
    'scripted.pt',
    zipSync({ 'scripted/data.pkl': OS_SYSTEM, 'scripted/constants.pkl': bytes([0x80, 0x02, 0x29, 0x2e]), 'scripted/code/__torch__.py': enc.encode('def forward(self, x): ...') }),
  );
  await rejects(readWeightsFile(path), 'MODEL_INVALID', /^scripted\.pt: is a TorchScript model \(torch\.jit\.save\), which holds code/);
});

test('truncated files are refused with sentences naming them', async () => {
  for (const name of ['compact-x1.safetensors', 'realesrgan-x4.pth', 'compact-x2-fp16-legacy.pth']) {
    const full = new Uint8Array(await readFile(join(FIXTURES, name)));
    const half = await put(`half-${name}`, full.subarray(0, Math.floor(full.length / 2)));
    await rejects(readWeightsFile(half), 'MODEL_INVALID', new RegExp(`^half-${name.replace(/\./g, '\\.')}: .*(truncated|not a readable PyTorch zip)`));
  }
  // Cut inside a safetensors header: still a sentence, not a JSON parser's message alone.
  const full = new Uint8Array(await readFile(join(FIXTURES, 'compact-x1.safetensors')));
  await rejects(readWeightsFile(await put('head.safetensors', full.subarray(0, 40))), 'MODEL_INVALID', /^head\.safetensors: is truncated/);
});

test('a PNG renamed .pth or .safetensors is refused as not a weights file', async () => {
  const png = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], 'IHDR', new Array(20).fill(0));
  for (const name of ['photo.pth', 'photo.safetensors']) {
    const path = await put(name, png);
    assert.equal(await sniffWeightsFile(path), null);
    await rejects(readWeightsFile(path), 'MODEL_INVALID', new RegExp(`^${name.replace('.', '\\.')}: is not a PyTorch \\.pth or \\.safetensors file`));
  }
});

/** A minimal safetensors writer (fp32 only) for keys the fixtures do not have. */
function safetensors(tensors: Record<string, { shape: number[]; data: number[] }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [k, t] of Object.entries(tensors)) {
    header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  const json = enc.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const floats = new Float32Array(Object.values(tensors).flatMap((t) => t.data));
  out.set(new Uint8Array(floats.buffer), 8 + json.length);
  return out;
}

test('an unknown architecture is refused with the keys it has', async () => {
  const path = await put(
    'swinir.safetensors',
    safetensors({ 'layers.0.attn.qkv.weight': { shape: [2, 2], data: [1, 2, 3, 4] }, 'conv_first.weight': { shape: [1, 1, 1, 1], data: [1] } }),
  );
  const { state } = await readWeightsFile(path);
  assert.throws(
    () => detectArchitecture('swinir.safetensors', state),
    (e: unknown) =>
      e instanceof StudioError &&
      e.code === 'MODEL_INVALID' &&
      /swinir\.safetensors: is not an architecture the studio can rebuild \(ESRGAN, Real-ESRGAN Compact, SPAN\); its 2 keys begin layers\.0\.attn\.qkv\.weight, conv_first\.weight/.test(e.message),
  );
});

test('wrappers (params_ema, state_dict) and prefixes (module., netG.) unwrap to the bare keys', async () => {
  const t = (v: number): TorchTensor => ({ dtype: 'F32', shape: [1], data: new Float32Array([v]) });
  const wrapped = new Map<string, unknown>([
    ['epoch', 3],
    ['state_dict', new Map([['module.netG.conv_first.weight', t(1)], ['module.netG.conv_last.weight', t(2)]])],
  ]);
  const state = unwrapStateDict('w.pth', wrapped as never);
  assert.deepEqual([...state.keys()], ['conv_first.weight', 'conv_last.weight']);
  // params_ema wins over params (the averaged weights are the ones to use).
  const both = new Map<string, unknown>([
    ['params', new Map([['a.weight', t(1)]])],
    ['params_ema', new Map([['a.weight', t(9)]])],
  ]);
  assert.equal(unwrapStateDict('w.pth', both as never).get('a.weight')!.data[0], 9);
  // A prefix only some keys have stays.
  assert.deepEqual([...stripPrefixes(new Map([['module.a', t(1)], ['b', t(2)]])).keys()], ['module.a', 'b']);
  await rejects(Promise.resolve().then(() => unwrapStateDict('opt.pth', new Map([['lr', 0.1]]) as never)), 'MODEL_INVALID', /opt\.pth: holds no weights \(its keys: lr\)/);
  // The fixtures: realesrgan-x1.pth is {"state_dict": {"module.…"}, "epoch": 7}, compact-x2 is legacy netG.…
  for (const name of ['realesrgan-x1.pth', 'compact-x2-fp16-legacy.pth', 'realesrgan-x4.pth']) {
    const keys = [...(await readWeightsFile(join(FIXTURES, name))).state.keys()];
    assert.ok(keys.every((k) => !k.startsWith('module.') && !k.startsWith('netG.')), `${name}: ${keys[0]}`);
    assert.ok(keys.includes('conv_first.weight') || keys.includes('body.0.weight'), `${name}: ${keys.slice(0, 3).join(', ')}`);
  }
});

test('fp16 and bf16 decode exactly; a strided (transposed) view is gathered in row-major order', () => {
  const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000]).buffer);
  const h = decodeTensor('f', 'h', half, 'F16', { offset: 0, shape: [5], stride: [1] });
  assert.deepEqual([...h.data], [1, -2, 2 ** -24, 65504, -0]);
  const bf = new Uint8Array(new Uint16Array([0x3f80, 0xc0a0]).buffer); // 1, -5
  assert.deepEqual([...decodeTensor('f', 'b', bf, 'BF16', { offset: 0, shape: [2], stride: [1] }).data], [1, -5]);
  // Storage 0..5 as a 2x3 matrix, read as its 3x2 transpose with an offset of 0: [[0,3],[1,4],[2,5]].
  const storage = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
  const t = decodeTensor('f', 't', storage, 'F32', { offset: 0, shape: [3, 2], stride: [1, 3] });
  assert.deepEqual([...t.data], [0, 3, 1, 4, 2, 5]);
  // An offset view: elements 2..5 as 2x2.
  assert.deepEqual([...decodeTensor('f', 'o', storage, 'F32', { offset: 2, shape: [2, 2], stride: [2, 1] }).data], [2, 3, 4, 5]);
  assert.throws(() => decodeTensor('f.pth', 'x', storage, 'F32', { offset: 4, shape: [2, 2], stride: [2, 1] }), /f\.pth: tensor "x" \[2, 2\] reaches past its data/);
  // An expanded view (stride 0) claiming billions of elements from one float is refused before allocating.
  assert.throws(() => decodeTensor('f.pth', 'e', storage, 'F32', { offset: 0, shape: [65536, 65536], stride: [0, 0] }), /f\.pth: tensor "e" claims 4294967296 elements/);
});

test('damaged files fail with the studio\'s sentences, never a crash: every cut and random byte flips', async () => {
  let rand = 12345;
  const next = (n: number): number => {
    rand = (rand * 1103515245 + 12345) % 2147483648;
    return rand % n;
  };
  for (const name of ['compact-x2-fp16-legacy.pth', 'compact-x1.safetensors', 'span-x4.pth']) {
    const full = new Uint8Array(await readFile(join(FIXTURES, name)));
    const variants: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) variants.push(full.subarray(0, next(full.length)));
    for (let i = 0; i < 40; i++) {
      const copy = full.slice();
      // Flips in the first kilobyte hit the header or the pickle, where parsing happens.
      for (let k = 0; k < 4; k++) copy[next(Math.min(copy.length, 1024))] = next(256);
      variants.push(copy);
    }
    for (const [i, bytes] of variants.entries()) {
      try {
        parseWeights(name, bytes);
      } catch (error) {
        assert.ok(error instanceof StudioError, `${name} variant ${i}: ${String(error)}`);
        assert.ok(error.message.startsWith(`${name}: `), error.message);
      }
    }
  }
});

test('views and protocols: a transposed tensor, an fp16 view at an offset, a Parameter, bf16 and fp64 (zip at pickle protocol 4, legacy at 5)', async () => {
  const manifest = JSON.parse(await readFile(join(FIXTURES, 'manifest.json'), 'utf8')) as {
    views: { files: string[]; values: string; tensors: Record<string, { shape: number[]; dtype: string }> };
  };
  const raw = await readFile(join(FIXTURES, manifest.views.values));
  const expected = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const dtypes: Record<string, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64' };
  for (const file of manifest.views.files) {
    const { state } = await readWeightsFile(join(FIXTURES, file));
    assert.deepEqual([...state.keys()], Object.keys(manifest.views.tensors), file);
    let at = 0;
    for (const [key, want] of Object.entries(manifest.views.tensors)) {
      const t = state.get(key)!;
      assert.deepEqual(t.shape, want.shape, `${file} ${key}`);
      assert.equal(t.dtype, dtypes[want.dtype], `${file} ${key}`);
      assert.deepEqual([...t.data], [...expected.subarray(at, at + t.data.length)], `${file} ${key}`);
      at += t.data.length;
    }
    assert.equal(at, expected.length);
  }
});
