#!/usr/bin/env node
// Asks a running promoctl sidecar for decisions over OFREP, through the
// official OpenFeature server SDK and OFREP provider, and prints one JSON line
// per case on stdout.
//
//   node check.mjs --base-url http://127.0.0.1:8787 [--token T] --cases cases.json
//
// cases.json is an array of
//   {"customer":"c1","feature":"sso","kind":"boolean"|"number","default":false,"context":{...}}
// and every output line is
//   {"feature","customer","value","reason","variant","errorCode","errorMessage","flagMetadata"}
// (absent fields are null). Evaluation errors (FLAG_NOT_FOUND, GENERAL on a
// 401, a timeout, ...) are data: they come out as lines with the caller's
// default value and an errorCode. Exit status: 0 when every case was run,
// 2 on a usage or setup failure, 1 on an unexpected failure.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const USAGE = 'usage: node check.mjs --base-url http://127.0.0.1:PORT [--token T] --cases cases.json [--timeout-ms 5000]';

class SetupError extends Error {}

// A reader that goes away (e.g. `| head -1`) is not a crash.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

function parseCli(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        'base-url': { type: 'string' },
        token: { type: 'string' },
        cases: { type: 'string' },
        'timeout-ms': { type: 'string', default: '5000' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new SetupError(`${err.message}\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  if (!v['base-url'] || !v.cases) throw new SetupError(USAGE);
  // The provider appends "/ofrep/v1/..." to the base URL as is.
  const baseUrl = v['base-url'].replace(/\/+$/, '');
  try {
    new URL(baseUrl);
  } catch {
    throw new SetupError(`invalid --base-url ${JSON.stringify(v['base-url'])}`);
  }
  const timeoutMs = Number(v['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new SetupError('--timeout-ms must be a positive integer');
  return { baseUrl, token: v.token || '', casesPath: v.cases, timeoutMs };
}

async function loadCases(path) {
  let raw;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw new SetupError(`cannot read cases file: ${err.message}`);
  }
  let cases;
  try {
    cases = JSON.parse(raw);
  } catch (err) {
    throw new SetupError(`cases file is not JSON: ${err.message}`);
  }
  if (!Array.isArray(cases)) throw new SetupError('cases file must hold a JSON array');
  cases.forEach((c, i) => {
    const where = `case ${i}`;
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new SetupError(`${where}: not an object`);
    if (typeof c.customer !== 'string') throw new SetupError(`${where}: customer must be a string`);
    if (typeof c.feature !== 'string' || c.feature === '') throw new SetupError(`${where}: feature must be a non-empty string`);
    if (c.kind !== 'boolean' && c.kind !== 'number') throw new SetupError(`${where}: kind must be "boolean" or "number"`);
    if (typeof c.default !== c.kind) throw new SetupError(`${where}: default must be a ${c.kind}`);
    if (c.context !== undefined && (c.context === null || typeof c.context !== 'object' || Array.isArray(c.context))) {
      throw new SetupError(`${where}: context must be an object`);
    }
  });
  return cases;
}

function line(c, details) {
  return JSON.stringify({
    feature: c.feature,
    customer: c.customer,
    value: details.value ?? null,
    reason: details.reason ?? null,
    variant: details.variant ?? null,
    errorCode: details.errorCode ?? null,
    errorMessage: details.errorMessage ?? null,
    flagMetadata: details.flagMetadata ?? {},
  });
}

async function main() {
  const { baseUrl, token, casesPath, timeoutMs } = parseCli(process.argv.slice(2));
  const cases = await loadCases(casesPath);

  // OFREPProviderOptions (ofrep-provider 0.1.3 / ofrep-core 0.1.4):
  // baseUrl, headers (list of [name, value] or a record), headersFactory,
  // fetchImplementation. The last one is used here only to bound each request.
  let provider;
  try {
    provider = new OFREPProvider({
      baseUrl,
      headers: token ? [['Authorization', `Bearer ${token}`]] : undefined,
      fetchImplementation: (req) => fetch(req, { signal: AbortSignal.timeout(timeoutMs) }),
    });
    await OpenFeature.setProviderAndWait(provider);
  } catch (err) {
    throw new SetupError(`provider setup failed: ${err.message}`);
  }
  const client = OpenFeature.getClient('promoctl-check');

  try {
    for (const c of cases) {
      // A case's context may override targetingKey (e.g. to test a missing key).
      const ctx = { targetingKey: c.customer, ...(c.context ?? {}) };
      const details =
        c.kind === 'boolean'
          ? await client.getBooleanDetails(c.feature, c.default, ctx)
          : await client.getNumberDetails(c.feature, c.default, ctx);
      process.stdout.write(line(c, details) + '\n');
    }
  } finally {
    await OpenFeature.close();
  }
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (err) => {
    process.stderr.write(`check.mjs: ${err instanceof SetupError ? err.message : err?.stack ?? err}\n`);
    process.exitCode = err instanceof SetupError ? 2 : 1;
  },
);
