import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliCommand, CliIO } from '../command';
import { StudioError } from '#shared/rpc/errors';
import type { ModelCard } from '#shared/model-card';
import { isNonCommercial } from '#shared/license';
import { withEngine } from '../engine';
import { formatBytes, formatCount, formatDuration } from '../format';

function table(rows: string[][], io: CliIO): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const row of rows) io.out(row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

function printCard(card: ModelCard, path: string, io: CliIO): void {
  io.out(`${card.name} (${card.id})`);
  io.out(`  path          ${path}`);
  io.out(`  task          ${card.task}`);
  const hyper = Object.entries(card.architecture.hyper).map(([k, v]) => `${k}=${String(v)}`).join(' ');
  io.out(`  architecture  ${card.architecture.id}${hyper ? ` (${hyper})` : ''}`);
  io.out(`  parameters    ${formatCount(card.params)}${card.macsPerPixel !== null ? ` · ${formatCount(Math.round(card.macsPerPixel))} MACs/pixel` : ''}`);
  io.out(`  source        ${card.source} · created ${card.createdAt}`);
  if (card.imported) {
    io.out(`  imported from ${card.imported.file} (${card.imported.format}, ${card.imported.architecture} ${card.imported.scale}x) sha256 ${card.imported.sha256}`);
  }
  if (card.scale && card.scale > 1) io.out(`  scale         ${card.scale}x (the result is ${card.scale} times the photo's width and height)`);
  if (card.license !== undefined) io.out(`  licence       ${card.license ?? 'not filled in'}${isNonCommercial(card.license) ? ' — does not allow commercial use' : ''}`);
  if (card.restores.preset || card.restores.description) {
    io.out(`  restores      ${[card.restores.preset, card.restores.description].filter(Boolean).join(' — ')}`);
  }
  const t = card.training;
  if (t) {
    const m = t.finalMetrics;
    const metrics = m ? [m.psnr !== null ? `PSNR ${m.psnr.toFixed(2)} dB` : '', m.ssim !== null ? `SSIM ${m.ssim.toFixed(4)}` : '', m.loss !== null ? `loss ${m.loss.toPrecision(4)}` : ''].filter(Boolean).join(', ') : '';
    io.out(`  training      ${t.history.length} epoch${t.history.length === 1 ? '' : 's'}${t.stopReason ? ` (${t.stopReason})` : ''} on ${t.backend ?? '?'} in ${formatDuration(t.seconds ?? NaN)}`);
    if (metrics) io.out(`  validation    ${metrics}`);
    if (t.dataFingerprint) io.out(`  data          ${t.dataFingerprint}`);
  }
}

const USAGE = `Usage: studio models <list|show|import|export|delete|rename> [arguments] [options]

Manage the models folder (the data folder's models/ unless changed in Settings or with --models-dir).

  studio models list [--json]                      every model: id, name, architecture, parameters
  studio models show <id|folder> [--json]          the model card (checks that the model loads)
  studio models import <zip|folder|file.h5|file.keras|file.pth|file.safetensors> [--name N] [--json]
                                                   a package zip, a model folder (package or TensorFlow.js
                                                   layers model.json + weights), a Keras .h5 / .keras model,
                                                   or PyTorch weights (.pth / .pt / .safetensors) of ESRGAN,
                                                   Real-ESRGAN Compact or SPAN (read without running pickle code)
  studio models export <id> [--out file.zip] [--json]   a zip other studios can import (default ./<id>.zip)
  studio models delete <id> [--json]
  studio models rename <id> <name> [--json]        changes the display name (the id stays)

Options:
  --models-dir <dir>  the models folder to use
  --backend <name>    auto, tensorflow, wasm or cpu (for loading models)
  --json              machine-readable output on stdout, one line
                      (list: [{"id","name","arch","params","path"}...])`;

export const modelsCommand: CliCommand = {
  name: 'models',
  summary: 'List, show, import, export, delete and rename models.',
  usage: USAGE,
  async run(args, io, signal) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        name: { type: 'string' },
        out: { type: 'string' },
        'models-dir': { type: 'string' },
        backend: { type: 'string' },
      },
    });
    const [action, ...rest] = positionals;
    const need = (count: number, what: string): string[] => {
      if (rest.length !== count) throw new StudioError('BAD_INPUT', `studio models ${action} needs ${what}.`);
      return rest;
    };
    const actions = ['list', 'show', 'import', 'export', 'delete', 'rename'];
    if (!action || !actions.includes(action)) {
      throw new StudioError('BAD_INPUT', action ? `Unknown models action "${action}" (use ${actions.join(', ')}).` : `Give an action: ${actions.join(', ')}.`);
    }
    const json = values.json;
    return withEngine({ backend: values.backend, modelsDir: values['models-dir'] }, async ({ engine, modelsDir }) => {
      const dir = { modelsDir };
      switch (action) {
        case 'list': {
          need(0, 'no arguments');
          const list = await engine.call('models.list', dir, { signal });
          if (json) {
            io.out(JSON.stringify(list.map((m) => ({ id: m.id, name: m.name, arch: m.arch, params: m.params, path: m.path, ...(m.error ? { error: m.error } : {}) }))));
            return 0;
          }
          if (list.length === 0) {
            io.out('No models yet. Train one (studio train) or import one (studio models import).');
            return 0;
          }
          const rows = [['ID', 'NAME', 'ARCH', 'PARAMS', 'VAL PSNR']];
          for (const m of list) {
            if (m.error) rows.push([m.id, 'BROKEN', '', '', m.error]);
            else rows.push([m.id, m.name ?? '', m.arch ?? '', m.params === null ? '' : formatCount(m.params), m.psnr === null ? '' : `${m.psnr.toFixed(2)} dB`]);
          }
          table(rows, io);
          return 0;
        }
        case 'show': {
          const [id] = need(1, 'a model id or folder');
          const details = await engine.call('models.show', { id: id!, ...dir }, { signal });
          if (json) io.out(JSON.stringify(details));
          else {
            printCard(details.card, details.path, io);
            io.out(`  files         ${details.files.map((f) => `${f.name} (${formatBytes(f.bytes)})`).join(', ')}`);
          }
          return 0;
        }
        case 'import': {
          const [source] = need(1, 'a package zip, a model folder, a Keras .h5 or .keras file, or a PyTorch .pth or .safetensors file');
          const result = await engine.call('models.import', { source: resolve(source!), ...(values.name ? { name: values.name } : {}), ...dir }, { signal });
          if (json) io.out(JSON.stringify({ id: result.id, name: result.card.name, arch: result.card.architecture.id, params: result.card.params, path: result.path, kind: result.kind }));
          else {
            const what = { keras: 'Keras model', zip: 'package', folder: 'model folder', pytorch: 'PyTorch weights' }[result.kind];
            const arch = result.kind === 'pytorch' ? `, ${result.card.architecture.id} ${result.card.scale ?? 1}x` : '';
            io.out(`Imported ${what} as "${result.card.name}" (${result.id}${arch}, ${formatCount(result.card.params)} parameters) → ${result.path}`);
          }
          return 0;
        }
        case 'export': {
          const [id] = need(1, 'a model id');
          const out = resolve(values.out ?? `${id!.split(/[\\/]/).filter(Boolean).pop()}.zip`);
          const result = await engine.call('models.export', { id: id!, out, ...dir }, { signal });
          if (json) io.out(JSON.stringify(result));
          else io.out(`Exported ${id} → ${result.path} (${formatBytes(result.bytes)})`);
          return 0;
        }
        case 'delete': {
          const [id] = need(1, 'a model id');
          const result = await engine.call('models.delete', { id: id!, ...dir }, { signal });
          if (json) io.out(JSON.stringify({ deleted: result.id, path: result.path }));
          else io.out(`Deleted ${result.id} (${result.path})`);
          return 0;
        }
        case 'rename': {
          const [id, name] = need(2, 'a model id and a new name');
          const card = await engine.call('models.rename', { id: id!, name: name!, ...dir }, { signal });
          if (json) io.out(JSON.stringify({ id: card.id, name: card.name }));
          else io.out(`Renamed ${id} to "${card.name}"`);
          return 0;
        }
        default:
          return 2;
      }
    });
  },
};
