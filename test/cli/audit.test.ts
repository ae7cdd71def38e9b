import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../../src/cli/audit';

describe('audit CLI arguments', () => {
  it('reads filters and defaults the limit to 100', () => {
    assert.deepEqual(parseArgs(['--workflow-id', 'incident-x', '--actor', 'cto']), {
      workflowId: 'incident-x',
      actor: 'cto',
      limit: 100,
      json: false,
    });
    assert.equal(parseArgs(['--help']), 'help');
  });

  it('names the option at fault', () => {
    assert.throws(() => parseArgs(['--limit', '0']), /^Error: --limit: must be a whole number/);
    assert.throws(() => parseArgs(['--since', 'yesterday']), /--since: "yesterday" is not a timestamp/);
    assert.throws(() => parseArgs(['--workflow-id']), /--workflow-id needs a value/);
    assert.throws(() => parseArgs(['--colour']), /unknown option --colour/);
  });
});
