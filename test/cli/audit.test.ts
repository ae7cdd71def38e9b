import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addAuditCommand, type AuditQuery } from '../../src/cli/audit';
import type { Output } from '../../src/cli/runbook/output';
import { parseCommandLine } from '../helpers/parse-command-line';

/** The options `runbook audit` was given, as the query it would run; nothing is read from a database. */
const parseAudit = (argv: string[]) =>
  parseCommandLine<AuditQuery>(
    (root, capture) =>
      addAuditCommand(
        root,
        () => ({ json: false }) as Output,
        () => undefined,
        async (_out, query) => {
          await capture(query);
          return 0;
        },
      ),
    ['audit', ...argv],
  );

describe('audit CLI arguments', () => {
  it('reads filters and defaults the limit to 100', async () => {
    assert.deepEqual(await parseAudit(['--workflow-id', 'incident-x', '--actor', 'cto']), {
      workflowId: 'incident-x',
      actor: 'cto',
      limit: 100,
    });
    assert.deepEqual(await parseAudit(['--since', '2026-11-23T09:00:00Z', '--limit', '5']), {
      workflowId: undefined,
      actor: undefined,
      since: '2026-11-23T09:00:00.000Z',
      limit: 5,
    });
  });

  it('names the option at fault', async () => {
    await assert.rejects(parseAudit(['--limit', '0']), /^Error: --limit: must be a whole number/);
    await assert.rejects(parseAudit(['--since', 'yesterday']), /--since: "yesterday" is not a timestamp/);
    await assert.rejects(parseAudit(['--workflow-id']), /option '--workflow-id <id>' argument missing/);
    await assert.rejects(parseAudit(['--colour']), /unknown option '--colour'/);
  });
});
