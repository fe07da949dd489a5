import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const LIB = new URL('../../../lib/', import.meta.url);

/** Every module specifier a file imports or re-exports, dynamic imports included. */
function importsOf(source: string): string[] {
  const patterns = [/\bfrom\s+'([^']+)'/g, /\bimport\s+'([^']+)'/g, /\bimport\(\s*'([^']+)'\s*\)/g];
  return patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1] ?? ''));
}

/** `[file, specifier]` for every import of every .ts file under lib/<folder>, subfolders included. */
function importsUnder(folder: string): [string, string][] {
  const dir = new URL(`${folder}/`, LIB);
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 5, `lib/${folder} holds only ${files.length} modules`);
  return files.flatMap((file) =>
    importsOf(readFileSync(new URL(file, dir), 'utf8')).map((target): [string, string] => [file, target]),
  );
}

/** What a pure domain folder never imports: an AWS SDK, Powertools, middy, the edge, the adapters or the wiring. */
const IMPURE =
  /^@aws-sdk\/|^@aws-lambda-powertools\/|^@middy\/|^aws-lambda$|\/(aws|http|config|observability)(\/|$)|\/functions\//;

/** Fails on the first import of lib/<folder> that IMPURE matches. */
function assertPure(folder: string): void {
  for (const [file, target] of importsUnder(folder)) {
    assert.doesNotMatch(target, IMPURE, `lib/${folder}/${file} imports ${target}`);
  }
}

describe('layer boundaries', () => {
  it('lib/wechatpay imports nothing outside itself but Node built-ins', () => {
    for (const [file, target] of importsUnder('wechatpay')) {
      assert.match(target, /^node:|^\.\/[^.]/, `lib/wechatpay/${file} imports ${target}`);
    }
  });

  it('lib/contracts stays pure: no AWS SDK, Powertools or middy, nothing from lib/aws, lib/http or lib/config', () => {
    assertPure('contracts');
  });

  it('nothing a function bundles imports the X-Ray SDK, Powertools Tracer or Parameters, or an SSM or Secrets Manager client', () => {
    // The X-Ray SDKs' support ends on 2027-02-25 (docs/deploy.md, "Tracing"); key material comes through the
    // Parameters and Secrets extension over HTTP instead of SDK clients.
    const forbidden =
      /^aws-xray-sdk|^@aws-lambda-powertools\/(tracer|parameters)|^@aws-sdk\/client-(ssm|secrets-manager)$/;
    const scanned: [string, string][] = [];
    for (const root of [LIB, new URL('../../../functions/', import.meta.url)]) {
      const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
      for (const file of files) {
        for (const target of importsOf(readFileSync(new URL(file, root), 'utf8')))
          scanned.push([file, target]);
      }
    }
    assert.ok(
      scanned.some(([, target]) => target === '@aws-lambda-powertools/logger'),
      'the scan reads lib/',
    );
    for (const [file, target] of scanned) assert.doesNotMatch(target, forbidden, `${file} imports ${target}`);
  });

  it('lib/repayments stays pure too, and builds on lib/contracts and lib/wechatpay, never the other way', () => {
    assertPure('repayments');
    for (const [file, target] of [...importsUnder('contracts'), ...importsUnder('wechatpay')]) {
      // From lib/contracts or lib/wechatpay, lib/repayments is `../repayments/…` (lib/wechatpay/repayments.ts is not).
      assert.doesNotMatch(target, /^\.\.\/repayments\//, `${file} imports ${target}`);
    }
  });

  it('lib/commands stays pure too: the router invokes and publishes through its ports', () => {
    assertPure('commands');
  });

  it('the scan sees every kind of import', () => {
    const source = [
      "import { a } from './a';",
      "import type { B } from '../b';",
      "export * from './c';",
      "import './d';",
      "const e = await import('../e');",
    ].join('\n');
    assert.deepEqual(importsOf(source).sort(), ['../b', '../e', './a', './c', './d']);
  });
});
