// A pickle reader that never runs code. PyTorch files are pickles, and a pickle is a small program whose
// GLOBAL opcodes import any Python callable and whose REDUCE calls it: loading one with Python's pickle
// runs whatever the author wrote. This VM implements the data opcodes of protocols 0-5 and resolves a
// global only from a short allowlist of what torch.save writes for a state dict (OrderedDict, the tensor
// rebuild functions, the storage types); any other global is refused when it is read, before anything
// uses it. "Calls" of allowed globals build plain JavaScript values (PyDict, TensorRef, ...).
import { StudioError } from '#shared/rpc/errors';

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A dict or OrderedDict (insertion order kept, like both). Keys are primitives in state dicts. */
export class PyDict {
  readonly map = new Map<unknown, PyValue>();
}

/** An allowed Python global, e.g. torch.FloatStorage, as a value (a storage type) or a callable. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What a persistent id resolves to: a tensor's storage (see pth.ts). */
export interface StorageRef {
  kind: 'storage';
  /** Storage class name, e.g. FloatStorage. */
  type: string;
  key: string;
  /** Elements (not bytes). */
  numel: number;
  bytes: Uint8Array;
}

/** A tensor as torch._utils._rebuild_tensor_v2 describes it: a view (offset, sizes, strides) of a storage. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PyGlobal
  | StorageRef
  | TensorRef
  | Set<unknown>
  | InertObject;

/** A training checkpoint's bookkeeping object (arguments, a numpy scalar), kept as a name only. */
export interface InertObject {
  kind: 'object';
  of: string;
}

/**
 * Classes training scripts pickle next to the weights (their arguments, best scores as numpy scalars). They
 * are never constructed: "calling" one gives an InertObject, and their state is dropped. A file holding
 * them still loads its weights.
 */
const INERT = ['argparse.Namespace', 'numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar', 'numpy.dtype', '_codecs.encode'];

export const STORAGE_TYPES = [
  'FloatStorage',
  'HalfStorage',
  'BFloat16Storage',
  'DoubleStorage',
  'LongStorage',
  'IntStorage',
  'ShortStorage',
  'CharStorage',
  'ByteStorage',
  'BoolStorage',
] as const;

/** Globals a state dict needs. Values are what a call does; null means usable as a value only. */
const ALLOWED = new Map<string, ((args: PyValue[], file: string) => PyValue) | null>([
  ['collections.OrderedDict', () => new PyDict()],
  ['builtins.dict', () => new PyDict()],
  ['__builtin__.dict', () => new PyDict()],
  ['builtins.set', (args) => new Set(Array.isArray(args[0]) ? args[0] : [])],
  ['builtins.frozenset', (args) => new Set(Array.isArray(args[0]) ? args[0] : [])],
  ['torch._utils._rebuild_tensor_v2', rebuildTensor],
  ['torch._utils._rebuild_tensor', rebuildTensor],
  ['torch._utils._rebuild_parameter', (args) => args[0] ?? null],
  ['torch._utils._rebuild_parameter_with_state', (args) => args[0] ?? null],
  ['torch._tensor._rebuild_from_type_v2', rebuildFromType],
  ['torch.Tensor', null],
  ['torch.nn.parameter.Parameter', null],
  ...STORAGE_TYPES.map((t) => [`torch.${t}`, null] as const),
  ...INERT.map((name) => [name, (): InertObject => ({ kind: 'object', of: name })] as const),
]);

function asInt(value: PyValue, what: string, file: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  throw new StudioError('MODEL_INVALID', `${file}: a tensor's ${what} is not an integer.`);
}

function intList(value: PyValue, what: string, file: string): number[] {
  const items = value instanceof PyTuple ? value.items : Array.isArray(value) ? value : null;
  if (!items) throw new StudioError('MODEL_INVALID', `${file}: a tensor's ${what} is not a tuple.`);
  return items.map((v) => asInt(v, what, file));
}

function rebuildTensor(args: PyValue[], file: string): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!storage || typeof storage !== 'object' || !('kind' in storage) || storage.kind !== 'storage') {
    throw new StudioError('MODEL_INVALID', `${file}: a tensor has no storage.`);
  }
  return {
    kind: 'tensor',
    storage: storage as StorageRef,
    offset: asInt(offset ?? 0, 'storage offset', file),
    shape: intList(size ?? new PyTuple([]), 'size', file),
    stride: intList(stride ?? new PyTuple([]), 'stride', file),
  };
}

/** Tensor subclasses (Parameter) saved by newer torch: (func, type, args, state) → func(*args). */
function rebuildFromType(args: PyValue[], file: string): PyValue {
  const [func, , inner] = args;
  if (!(func instanceof PyGlobal)) throw new StudioError('MODEL_INVALID', `${file}: a tensor is rebuilt by something that is not a function.`);
  return callGlobal(func, inner instanceof PyTuple ? inner.items : [], file);
}

function callGlobal(fn: PyValue, args: PyValue[], file: string): PyValue {
  if (!(fn instanceof PyGlobal)) throw new StudioError('MODEL_INVALID', `${file}: its pickle calls something that is not a function.`);
  const impl = ALLOWED.get(fn.qualified);
  if (!impl) throw new StudioError('MODEL_INVALID', `${file}: its pickle calls "${fn.qualified}", which is a type, not a function.`);
  return impl(args, file);
}

/** The sentence for a global outside the allowlist. */
export function refusedGlobal(file: string, qualified: string): StudioError {
  const last = qualified.split('.').pop() ?? '';
  const hint = /^[A-Z]/.test(last) && !qualified.startsWith('torch.')
    ? ' It seems to hold a whole pickled Python object rather than a state dict; save model.state_dict() instead.'
    : '';
  return new StudioError('BAD_INPUT', `${file}: refuses to load: the file asks to run "${qualified}", which a weights file never needs.${hint}`, {
    global: qualified,
  });
}

export interface UnpickleOptions {
  /** File name for messages. */
  file: string;
  /** Resolves a persistent id (torch's storage tuples). */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Where the pickle starts in `bytes` (legacy .pth files hold several pickles in a row). */
  offset?: number;
}

const MARK = Symbol('mark');
type Slot = PyValue | typeof MARK;

/** Larger than any state dict needs; a guard against a hostile stream exhausting memory. */
const MAX_STACK = 1 << 20;

/** Reads one pickle; returns its value and the offset just after its STOP. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): { value: PyValue; end: number } {
  const { file } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  let pos = options.offset ?? 0;
  const stack: Slot[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const truncated = (): StudioError =>
    new StudioError('MODEL_INVALID', `${file}: is truncated or not a PyTorch file (its pickle ends at byte ${pos} of ${bytes.length}).`);
  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.length) throw truncated();
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) throw truncated();
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw truncated();
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const push = (v: PyValue): void => {
    if (stack.length >= MAX_STACK) throw new StudioError('MODEL_INVALID', `${file}: its pickle is deeper than any weights file.`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw new StudioError('MODEL_INVALID', `${file}: its pickle is malformed (stack underflow at byte ${pos}).`);
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw new StudioError('MODEL_INVALID', `${file}: its pickle is malformed (empty stack at byte ${pos}).`);
    return v;
  };
  const popMark = (): PyValue[] => {
    const at = marks.pop();
    if (at === undefined) throw new StudioError('MODEL_INVALID', `${file}: its pickle is malformed (no mark at byte ${pos}).`);
    const items = stack.splice(at);
    items.shift(); // the mark itself
    if (items.includes(MARK)) throw new StudioError('MODEL_INVALID', `${file}: its pickle is malformed (nested mark at byte ${pos}).`);
    return items as PyValue[];
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const qualified = `${module}.${name}`;
    if (!ALLOWED.has(qualified)) throw refusedGlobal(file, qualified);
    return new PyGlobal(module, name);
  };
  const signedLong = (raw: Uint8Array): number | bigint => {
    if (raw.length === 0) return 0;
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]!);
    if (raw[raw.length - 1]! & 0x80) v -= 1n << BigInt(raw.length * 8);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (!(target instanceof PyDict)) throw new StudioError('MODEL_INVALID', `${file}: its pickle sets items on something that is not a dict.`);
    if (items.length % 2 !== 0) throw new StudioError('MODEL_INVALID', `${file}: its pickle has a dict entry without a value.`);
    for (let i = 0; i < items.length; i += 2) target.map.set(items[i], items[i + 1]!);
  };
  const appendItems = (target: PyValue, items: PyValue[]): void => {
    if (Array.isArray(target)) target.push(...items);
    else if (target instanceof Set) for (const item of items) target.add(item);
    else throw new StudioError('MODEL_INVALID', `${file}: its pickle appends to something that is not a list.`);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME: a length prefix only
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack[stack.length - 1] === MARK) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x4a: // BININT
        need(4);
        push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(signedLong(take(u8())));
        break;
      case 0x8b: // LONG4
        push(signedLong(take(u32())));
        break;
      case 0x49: {
        // INT (text; "01"/"00" are True/False in protocol 0)
        const s = line();
        push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: // LONG (text)
        push(Number.parseInt(line().replace(/L$/, ''), 10));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: // FLOAT (text)
        push(Number.parseFloat(line()));
        break;
      case 0x58: // BINUNICODE
        push(text.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(text.decode(take(u64())));
        break;
      case 0x54: // BINSTRING
        push(latin1.decode(take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        push(take(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(take(u64()));
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(new PyTuple([pop()]));
        break;
      case 0x86: {
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        push(new Set(popMark()));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        push(resolveGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw new StudioError('MODEL_INVALID', `${file}: its pickle names a global with something that is not a string.`);
        }
        push(resolveGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        push(callGlobal(fn, args instanceof PyTuple ? args.items : [], file));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args) — only dict-like allowed globals get here
        const args = pop();
        const cls = pop();
        push(callGlobal(cls, args instanceof PyTuple ? args.items : [], file));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        pop();
        const args = pop();
        const cls = pop();
        push(callGlobal(cls, args instanceof PyTuple ? args.items : [], file));
        break;
      }
      case 0x62: // BUILD: state for an object (an OrderedDict's _metadata); nothing to run, dropped
        pop();
        top();
        break;
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) throw new StudioError('MODEL_INVALID', `${file}: its pickle refers to data outside it.`);
        push(options.persistentLoad(pid));
        break;
      }
      case 0x50: {
        // PERSID (text)
        const pid = line();
        if (!options.persistentLoad) throw new StudioError('MODEL_INVALID', `${file}: its pickle refers to data outside it.`);
        push(options.persistentLoad(pid));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number.parseInt(line(), 10), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET (text)
        const key = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
        if (!memo.has(key)) throw new StudioError('MODEL_INVALID', `${file}: its pickle is malformed (memo ${key} missing at byte ${at}).`);
        push(memo.get(key)!);
        break;
      }
      case 0x69: // INST: imports a class by name, like GLOBAL, then builds it
      case 0x6f: // OBJ
      case 0x82: // EXT1-4: globals from the copyreg registry
      case 0x83:
      case 0x84:
        throw new StudioError('BAD_INPUT', `${file}: refuses to load: its pickle builds Python objects (opcode 0x${op.toString(16)}), which a weights file never needs.`);
      default:
        throw new StudioError(
          'MODEL_INVALID',
          `${file}: is not a PyTorch file or is damaged (unknown pickle opcode 0x${op.toString(16)} at byte ${at}).`,
        );
    }
  }
}
