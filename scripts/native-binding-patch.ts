// A small patch to tfjs-node's N-API binding, applied by `npm run engine:native` before it builds: list
// attributes of strings and of types.
//
// Why: the engine runs TensorFlow's fused convolution (_MklNativeFusedConv2D / _FusedConv2D: bias and
// activation inside the conv op, what Keras' graph runs) through the binding's executeOp, and those ops take
// fused_ops: list(string) and TArgs: list(type). The binding as shipped sets a string or type attribute
// from a single value only and throws "Argument is not a string!" for a list, so the engine would fall back to
// a conv with bias plus a separate activation op (src/main/engine/kernels/native-fused.ts probes which one
// works). Single values behave exactly as before; a binding built without this patch (tfjs-node-gpu's own
// download) still works, with the fallback.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Recorded in deps/studio-native.json: a build without it is rebuilt. */
export const BINDING_PATCH = 'list-attrs-1';
const MARKER = `studio patch ${BINDING_PATCH}`;

const STRING_ANCHOR = '    case TF_ATTR_STRING: {\n';
const STRING_LIST = `    case TF_ATTR_STRING: {
      // ${MARKER}: list(string) attributes (e.g. _FusedConv2D's fused_ops).
      if (IsArray(env, nstatus, &js_value)) {
        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
        std::vector<std::string> strings(length);
        std::vector<const void *> values(length);
        std::vector<size_t> lengths(length);
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
          nstatus = GetStringParam(env, element, strings[i]);
          ENSURE_NAPI_OK(env, nstatus);
          values[i] = strings[i].data();
          lengths[i] = strings[i].size();
        }
        TFE_OpSetAttrStringList(tfe_op, attr_name, values.data(),
                                lengths.data(), static_cast<int>(length));
        break;
      }
`;

const TYPE_ANCHOR = '    case TF_ATTR_TYPE: {\n';
const TYPE_LIST = `    case TF_ATTR_TYPE: {
      // ${MARKER}: list(type) attributes (e.g. _FusedConv2D's TArgs).
      if (IsArray(env, nstatus, &js_value)) {
        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
        std::vector<TF_DataType> types(length);
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
          nstatus = napi_get_value_int32(
              env, element, reinterpret_cast<int32_t *>(&types[i]));
          ENSURE_NAPI_OK(env, nstatus);
        }
        TFE_OpSetAttrTypeList(tfe_op, attr_name, types.data(),
                              static_cast<int>(length));
        break;
      }
`;

/**
 * Patches binding/tfjs_backend.cc in the package folder (once: a patched file is left as it is). Returns
 * 'patched' or 'already', or why it could not (another tfjs-node version): the build then goes on unpatched.
 */
export function patchBinding(packageDir: string): 'patched' | 'already' | string {
  const file = join(packageDir, 'binding', 'tfjs_backend.cc');
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return `${file} is missing`;
  }
  if (source.includes(MARKER)) return 'already';
  if (source.includes('studio patch ')) return 'it carries another version of this patch (reinstall the package: npm ci)';
  const count = (anchor: string): number => source.split(anchor).length - 1;
  if (count(STRING_ANCHOR) !== 1 || count(TYPE_ANCHOR) !== 1 || !source.includes('TFE_OpSetAttrString(')) {
    return 'its attribute code is not the one this patch was written for';
  }
  writeFileSync(file, source.replace(STRING_ANCHOR, STRING_LIST).replace(TYPE_ANCHOR, TYPE_LIST));
  return 'patched';
}
