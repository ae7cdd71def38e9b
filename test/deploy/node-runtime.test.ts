import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isSupportedNode, NODE_RUNTIME } from '../../scripts/lib/tools';
import { ROOT } from './dockerfile';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe('Node 24, the runtime', () => {
  it('runs this suite', () => {
    assert.ok(isSupportedNode(process.versions.node), `running on Node ${process.versions.node}`);
  });

  it('is what package.json engines and @types/node say', () => {
    assert.equal(pkg.engines.node, `^${NODE_RUNTIME.minimum}`);
    assert.equal(pkg.devDependencies['@types/node'].split('.')[0], NODE_RUNTIME.version.split('.')[0]);
  });

  it('accepts 24 from its first LTS release, and no other major', () => {
    assert.deepEqual(['20.19.0', '22.12.0', '24.10.0', '24.11.0', '24.21.0', '25.0.0', '26.1.0'].map(isSupportedNode), [
      false,
      false,
      false,
      true,
      true,
      false,
      false,
    ]);
  });

  it('is what scripts/node24.sh execs the entry scripts on, whatever node is first on PATH', () => {
    const result = spawnSync('sh', [join(ROOT, 'scripts', 'node24.sh'), '-p', 'process.versions.node'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(isSupportedNode(result.stdout.trim()), result.stdout);
  });
});
