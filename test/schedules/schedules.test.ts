import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, type ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createTemporalActivities } from '../../src/activities/temporal';
import { addScheduleCommands, type Command } from '../../src/cli/schedules';
import { UsageError } from '../../src/cli/runbook/output';
import { parseCommandLine } from '../helpers/parse-command-line';
import { dataConverter } from '../../src/client/data-converter';
import { loadConfig } from '../../src/config';
import { waitUntil } from '../helpers/wait';
import { registerSchedules } from '../../src/schedules/register';
import { classifySlots, findSkippedRuns, type SkippedRunsReport } from '../../src/schedules/skipped';
import { reportedScheduleIds, SCHEDULES, type ScheduleDefinition } from '../../src/schedules/table';
import { schedulesCli } from '../helpers/schedules-cli';
import { devServerEnv, uniqueId } from '../helpers/temporal';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('schedule table', () => {
  // The seeds' times, GMT (UTC): seed 002 for WedSync, seed 000 "Maintenance Procedures" for ScrollUniversity.
  const expected: Record<string, { type: string; cron: string; args: unknown[]; seed: string; workflowId?: string }> = {
    'wedsync-morning-health-check': { type: 'morningHealthCheck', cron: '0 9 * * *', args: [{}], seed: 'seed 002' },
    'wedsync-evening-performance-review': {
      type: 'eveningPerformanceReview',
      cron: '0 18 * * *',
      args: [{}],
      seed: 'seed 002',
    },
    'wedsync-sunday-maintenance': { type: 'sundayMaintenanceWindow', cron: '0 2 * * 0', args: [{}], seed: 'seed 002' },
    'wedsync-database-backup': { type: 'databaseBackup', cron: '0 1 * * *', args: [{}], seed: 'seed 002' },
    'wedsync-model-backup': { type: 'modelBackup', cron: '30 1 * * *', args: [{}], seed: 'seed 002' },
    'wedsync-backup-verification': { type: 'verifyBackup', cron: '0 5 * * *', args: [{}], seed: 'seed 002' },
    'wedsync-backup-retention': { type: 'pruneBackups', cron: '0 7 * * *', args: [{}], seed: 'seed 002' },
    'wedsync-model-backup-retention': {
      type: 'pruneModelBackups',
      cron: '15 7 * * *',
      args: [{}],
      seed: 'seed 002',
    },
    // Seed 000's monthly "Conduct disaster recovery drill", before the monthly checklist that reads its record.
    'wedsync-disaster-recovery-drill': {
      type: 'disasterRecoveryDrill',
      cron: '0 6 1 * *',
      args: [{}],
      seed: 'seed 000',
    },
    // Not a time from the seed: it restarts the crisis-manager watch within five minutes if it ever stops.
    'wedsync-crisis-manager-watch': { type: 'crisisManagerWatch', cron: '*/5 * * * *', args: [{}], seed: 'seed 002' },
    // Likewise for the circuit-breaker watch.
    'wedsync-ai-fallback-watch': { type: 'aiFallbackWatch', cron: '*/5 * * * *', args: [{}], seed: 'seed 002' },
    // The first Saturday of the month; each slot starts that month's run, model-retraining-YYYY-MM, as a child.
    'wedsync-model-retraining': {
      type: 'modelRetraining',
      cron: '0 0 1-7 * 6',
      args: [{}],
      seed: 'seed 002',
      workflowId: 'model-retraining',
    },
    'wedsync-model-accuracy-watch': {
      type: 'modelAccuracyWatch',
      cron: '30 */6 * * *',
      args: [{}],
      seed: 'seed 002',
    },
    'scrolluniversity-daily-checklist': {
      type: 'maintenanceChecklist',
      cron: '0 8 * * *',
      args: [{ cadence: 'daily' }],
      seed: 'seed 000',
    },
    'scrolluniversity-weekly-checklist': {
      type: 'maintenanceChecklist',
      cron: '0 8 * * 1',
      args: [{ cadence: 'weekly' }],
      seed: 'seed 000',
    },
    'scrolluniversity-monthly-checklist': {
      type: 'maintenanceChecklist',
      cron: '0 8 1 * *',
      args: [{ cadence: 'monthly' }],
      seed: 'seed 000',
    },
    'scrolluniversity-quarterly-checklist': {
      type: 'maintenanceChecklist',
      cron: '0 8 1 1,4,7,10 *',
      args: [{ cadence: 'quarterly' }],
      seed: 'seed 000',
    },
  };

  it('holds each seed procedure once, at its GMT time, with overlap SKIP and the seed named in the note', () => {
    assert.deepEqual(SCHEDULES.map((s) => s.scheduleId).sort(), Object.keys(expected).sort());
    for (const s of SCHEDULES) {
      const e = expected[s.scheduleId];
      assert.equal(s.workflowType, e.type, s.scheduleId);
      assert.equal(s.cron, e.cron, s.scheduleId);
      assert.deepEqual(s.args, e.args, s.scheduleId);
      assert.equal(s.timezone, 'UTC', s.scheduleId);
      assert.equal(s.overlap, 'SKIP', s.scheduleId);
      assert.equal(s.workflowId, e.workflowId ?? s.scheduleId, s.scheduleId);
      assert.match(s.note, new RegExp(`^${e.seed}, `), s.scheduleId);
    }
  });

  it("leaves the watches' keep-alive schedules out of the skipped-runs report: their skips are their purpose", () => {
    assert.deepEqual(
      reportedScheduleIds(),
      SCHEDULES.map((s) => s.scheduleId).filter(
        (id) => id !== 'wedsync-crisis-manager-watch' && id !== 'wedsync-ai-fallback-watch',
      ),
    );
  });
});

describe('skipped-slot classification', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 10, 20, 9, 0, s));

  it('calls a slot an overlap skip when a run was open, a missed catch-up otherwise, within the counters', () => {
    const result = classifySlots({
      expected: [t(0), t(10), t(20), t(30), t(40)],
      taken: [t(0)],
      runs: [{ startedAt: t(0), closedAt: t(15) }],
      counters: { skippedOverlap: 1, missedCatchup: 1 },
    });
    assert.deepEqual(result.skipped, [
      { scheduledAt: t(10).toISOString(), reason: 'overlap' },
      { scheduledAt: t(40).toISOString(), reason: 'missedCatchup' },
    ]);
    // Nothing was open at 20 and 30 and the server counted only one catch-up miss: paused then.
    assert.deepEqual(result.notStarted, [t(20), t(30)]);
  });

  it('counts a run started late as open from its slot: the slots the scheduler processed meanwhile were overlap skips', () => {
    const result = classifySlots({
      expected: [t(0), t(1), t(2), t(3)],
      taken: [t(0)],
      runs: [{ startedAt: new Date(t(1).getTime() + 300), scheduledAt: t(0) }],
      counters: { skippedOverlap: 3, missedCatchup: 0 },
    });
    assert.deepEqual(
      result.skipped,
      [t(1), t(2), t(3)].map((x) => ({ scheduledAt: x.toISOString(), reason: 'overlap' })),
    );
    assert.deepEqual(result.notStarted, []);
  });

  it('reports nothing when every slot started, even a second late', () => {
    const result = classifySlots({
      expected: [t(0), t(10)],
      taken: [new Date(t(0).getTime() + 400), t(10)],
      runs: [],
      counters: { skippedOverlap: 5, missedCatchup: 5 },
    });
    assert.deepEqual(result, { skipped: [], notStarted: [] });
  });
});

describe('schedules CLI arguments', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  const parseArgs = (argv: string[]) =>
    parseCommandLine<Command>(
      (root, capture) =>
        addScheduleCommands(
          root,
          capture,
          () => false,
          () => now,
        ),
      argv,
    );

  it('defaults trigger to allow-all and backfill to buffer-all', async () => {
    assert.deepEqual(await parseArgs(['trigger', 'wedsync-sunday-maintenance']), {
      name: 'trigger',
      id: 'wedsync-sunday-maintenance',
      overlap: 'ALLOW_ALL',
    });
    assert.deepEqual(await parseArgs(['trigger', 'x', '--overlap', 'skip']), {
      name: 'trigger',
      id: 'x',
      overlap: 'SKIP',
    });
    assert.deepEqual(
      await parseArgs(['backfill', 'x', '--from', '2026-11-20T00:00:00Z', '--to', '2026-11-23T00:00:00Z']),
      {
        name: 'backfill',
        id: 'x',
        from: new Date('2026-11-20T00:00:00Z'),
        to: new Date('2026-11-23T00:00:00Z'),
        overlap: 'BUFFER_ALL',
      },
    );
    assert.deepEqual(await parseArgs(['skipped']), {
      name: 'skipped',
      id: undefined,
      since: new Date(now.getTime() - 7 * DAY),
      json: false,
    });
  });

  it('names the argument at fault', async () => {
    const fails = (argv: string[], pattern: RegExp) =>
      assert.rejects(
        () => parseArgs(argv),
        (err: Error) => pattern.test(err.message),
      );
    const usage = (argv: string[], pattern: RegExp) =>
      assert.rejects(
        () => parseArgs(argv),
        (err: Error) => err instanceof UsageError && pattern.test(err.message),
      );
    await fails(['frobnicate'], /unknown command 'frobnicate'/);
    await fails(['pause'], /missing required argument 'id'/);
    await usage(['trigger', 'x', '--overlap', 'sometimes'], /--overlap: "sometimes" is not one of skip\|buffer-one/);
    await fails(['backfill', 'x', '--to', '2026-11-21T00:00:00Z'], /required option '--from <iso>' not specified/);
    await usage(
      ['backfill', 'x', '--from', 'yesterday', '--to', '2026-11-21T00:00:00Z'],
      /--from: "yesterday" is not an ISO time/,
    );
    await usage(
      ['backfill', 'x', '--from', '2026-11-21T00:00:00Z', '--to', '2026-11-20T00:00:00Z'],
      /--to: .* is not after --from/,
    );
    await usage(
      ['backfill', 'x', '--from', '2026-11-21T00:00:00Z', '--to', '2026-12-01T00:00:00Z'],
      /--to: .* is in the future/,
    );
    await usage(['skipped', '--since', '2027-01-01T00:00:00Z'], /--since: .* is in the future/);
    await fails(['pause', 'x', '--reason'], /option '--reason <text>' argument missing/);
    await usage(['pause', 'x', '--reason', ' '], /--reason: must not be empty/);
    await fails(['pause', 'x', '--overlap', 'skip'], /unknown option '--overlap'/);
    await fails(['resume', 'x', 'y'], /too many arguments for 'resume'/);
  });
});

describe('schedules on a Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  const taskQueue = uniqueId('schedules');
  const created: string[] = [];

  before(async () => {
    // A dev server of its own: schedules registered here must not fire on the shared stack.
    env = await devServerEnv({ own: true });
    bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../helpers/schedule-workflows'),
      logger: new DefaultLogger('WARN'),
    });
  });
  after(async () => {
    for (const id of created)
      await env.client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    await env?.teardown();
  });

  const cli = (...args: string[]) => schedulesCli(args, env.address);
  /** A client with the project's codec: the CLI seals what it registers (memo, arguments), as every client does. */
  const sealing = () =>
    new Client({ connection: env.connection, namespace: env.namespace, dataConverter: dataConverter(loadConfig()) });
  const describeSchedule = (id: string) => sealing().schedule.getHandle(id).describe();

  async function withWorker(fn: () => Promise<void>): Promise<void> {
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle });
    await worker.runUntil(fn());
  }

  /** A schedule that starts the probe workflow; `holdMs` decides how long each run stays open. */
  async function probeSchedule(options: {
    spec: { every: string } | { cron: string };
    holdMs: number;
    paused?: boolean;
    overlap?: ScheduleOverlapPolicy;
  }): Promise<string> {
    const scheduleId = uniqueId('probe');
    created.push(scheduleId);
    await env.client.schedule.create({
      scheduleId,
      spec:
        'every' in options.spec
          ? { intervals: [{ every: options.spec.every }] }
          : { cronExpressions: [options.spec.cron] },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduleProbe',
        workflowId: scheduleId,
        args: [{ holdMs: options.holdMs }],
        taskQueue,
      },
      policies: { overlap: options.overlap ?? 'SKIP', catchupWindow: '1 minute' },
      state: { paused: options.paused ?? false },
    });
    return scheduleId;
  }

  it('registers the whole table twice from the CLI without duplicates, with the spec the seeds give', async () => {
    const tableQueue = { TEMPORAL_TASK_QUEUE: uniqueId('table') }; // no worker: nothing here may run
    created.push(...SCHEDULES.map((s) => s.scheduleId));
    const first = await cli('register');
    assert.equal(first.code, 0, first.stderr);
    const second = await schedulesCli(['register'], env.address, tableQueue);
    assert.equal(second.code, 0, second.stderr);
    for (const s of SCHEDULES) {
      assert.match(first.stdout, new RegExp(`^${s.scheduleId}  created$`, 'm'));
      assert.match(second.stdout, new RegExp(`^${s.scheduleId}  updated$`, 'm'));
    }
    const onServer: string[] = [];
    for await (const s of sealing().schedule.list()) onServer.push(s.scheduleId);
    for (const s of SCHEDULES) assert.equal(onServer.filter((id) => id === s.scheduleId).length, 1, s.scheduleId);

    // The server's reading of each cron: the next run falls where the seed says.
    const next = async (id: string) => (await describeSchedule(id)).info.nextActionTimes[0];
    const sunday = await next('wedsync-sunday-maintenance');
    assert.deepEqual([sunday.getUTCDay(), sunday.getUTCHours(), sunday.getUTCMinutes()], [0, 2, 0]);
    assert.equal((await next('wedsync-evening-performance-review')).getUTCHours(), 18);
    const weekly = await next('scrolluniversity-weekly-checklist');
    assert.deepEqual([weekly.getUTCDay(), weekly.getUTCHours()], [1, 8]);
    const quarterly = await next('scrolluniversity-quarterly-checklist');
    assert.deepEqual([quarterly.getUTCMonth() % 3, quarterly.getUTCDate(), quarterly.getUTCHours()], [0, 1, 8]);
    const sundayDesc = await describeSchedule('wedsync-sunday-maintenance');
    assert.equal(sundayDesc.policies.overlap, 'SKIP');
    assert.equal(sundayDesc.policies.catchupWindow, HOUR);
    assert.equal(
      sundayDesc.action.type === 'startWorkflow' && sundayDesc.action.taskQueue,
      tableQueue.TEMPORAL_TASK_QUEUE,
    );

    const list = await cli('list', '--json');
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { scheduleId: string; registered: boolean; paused: boolean });
    for (const s of SCHEDULES)
      assert.deepEqual(
        rows.filter((r) => r.scheduleId === s.scheduleId).map((r) => [r.registered, r.paused]),
        [[true, false]],
      );
  });

  it('registers idempotently: a second registration updates instead of duplicating', async () => {
    const def: ScheduleDefinition = { ...SCHEDULES[0], scheduleId: uniqueId('test-morning') };
    created.push(def.scheduleId);
    const first = await registerSchedules(env.client, [def], 'aiops-runbooks-test');
    const second = await registerSchedules(env.client, [{ ...def, cron: '30 9 * * *' }], 'aiops-runbooks-test');
    assert.deepEqual(
      first.map((r) => r.outcome),
      ['created'],
    );
    assert.deepEqual(
      second.map((r) => r.outcome),
      ['updated'],
    );

    const matching = [];
    for await (const s of sealing().schedule.list()) if (s.scheduleId === def.scheduleId) matching.push(s);
    assert.equal(matching.length, 1);

    const described = await describeSchedule(def.scheduleId);
    assert.equal(described.policies.overlap, 'SKIP');
    assert.equal(described.spec.timezone, 'UTC');
    // The update replaced the spec: the next run is at 09:30 UTC.
    const next = described.info.nextActionTimes[0];
    assert.equal(next.getUTCHours(), 9);
    assert.equal(next.getUTCMinutes(), 30);
    assert.equal(described.action.type, 'startWorkflow');
    assert.equal(described.action.type === 'startWorkflow' && described.action.workflowType, 'morningHealthCheck');
  });

  it('keeps a paused schedule paused when it is registered again', async () => {
    const def: ScheduleDefinition = { ...SCHEDULES[0], scheduleId: uniqueId('test-paused') };
    created.push(def.scheduleId);
    await registerSchedules(env.client, [def], 'aiops-runbooks-test');
    await env.client.schedule.getHandle(def.scheduleId).pause('maintenance freeze');
    await registerSchedules(env.client, [def], 'aiops-runbooks-test');
    const described = await describeSchedule(def.scheduleId);
    assert.equal(described.state.paused, true);
  });

  it('fires nothing while paused, fires once resumed from the CLI, and stops again when paused from it', async () => {
    await withWorker(async () => {
      const id = await probeSchedule({ spec: { every: '1s' }, holdMs: 0, paused: true });
      const since = new Date();
      await new Promise((r) => setTimeout(r, 3_000));
      assert.equal((await describeSchedule(id)).info.numActionsTaken, 0);
      // Slots that fell while paused are not skips: Temporal does not count them and neither do we.
      const whilePaused = await findSkippedRuns(env.client, id, since);
      assert.equal(whilePaused.skippedOverlap + whilePaused.missedCatchup, 0);
      assert.ok(whilePaused.notStarted.length >= 1, JSON.stringify(whilePaused));

      const resumed = await cli('resume', id);
      assert.equal(resumed.code, 0, resumed.stderr);
      await waitUntil(
        'actions after resume',
        async () => (await describeSchedule(id)).info.numActionsTaken,
        (n) => n >= 1,
      );

      const paused = await cli('pause', id, '--reason', 'maintenance freeze');
      assert.equal(paused.code, 0, paused.stderr);
      const afterPause = await describeSchedule(id);
      assert.equal(afterPause.state.paused, true);
      assert.equal(afterPause.state.note, 'maintenance freeze');
      await new Promise((r) => setTimeout(r, 2_500));
      assert.equal((await describeSchedule(id)).info.numActionsTaken, afterPause.info.numActionsTaken);
    });
  });

  it('triggers a run from the CLI even while one is going under SKIP, unless told to skip', async () => {
    await withWorker(async () => {
      const id = await probeSchedule({ spec: { cron: '0 0 1 1 *' }, holdMs: 60_000 });
      // Under SKIP the server watches the run it started; runs it started with ALLOW_ALL it does not track.
      const first = await cli('trigger', id, '--overlap', 'skip');
      assert.equal(first.code, 0, first.stderr);
      const going = await waitUntil(
        'first run going',
        () => describeSchedule(id),
        (d) => d.info.runningActions.length === 1,
      );
      // A run's ID ends with its time to the second: a second trigger within the same second would reuse the ID.
      const nextSecond = Math.floor(going.info.recentActions[0].scheduledAt.getTime() / 1000 + 1) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, nextSecond - Date.now() + 50)));

      const forced = await cli('trigger', id);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /triggered \(overlap ALLOW_ALL\)/);
      await waitUntil(
        'second run started',
        () => describeSchedule(id),
        (d) => d.info.numActionsTaken === 2,
      );

      const polite = await cli('trigger', id, '--overlap', 'skip');
      assert.equal(polite.code, 0, polite.stderr);
      const d = await waitUntil(
        'overlap skip counted',
        () => describeSchedule(id),
        (x) => x.info.numActionsSkippedOverlap === 1,
      );
      assert.equal(d.info.numActionsTaken, 2);
    });
  });

  it('backfills a past range from the CLI: one run per slot, named with its slot', async () => {
    await withWorker(async () => {
      // Paused: backfill is a manual action and runs regardless, while no real slot can add a run meanwhile.
      const id = await probeSchedule({ spec: { cron: '0 9 * * *' }, holdMs: 0, paused: true });
      const r = await cli('backfill', id, '--from', '2026-11-01T00:00:00Z', '--to', '2026-11-04T00:00:00Z');
      assert.equal(r.code, 0, r.stderr);
      // buffer-all starts the slots one after another, each once the previous has finished.
      await waitUntil(
        'three actions',
        async () => (await describeSchedule(id)).info.numActionsTaken,
        (n) => n >= 3,
      );
      for (const day of ['01', '02', '03']) {
        assert.equal(await env.client.workflow.getHandle(`${id}-2026-11-${day}T09:00:00Z`).result(), 'done');
      }
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal((await describeSchedule(id)).info.numActionsTaken, 3);
    });
  });

  it('reports runs skipped by overlap, slot by slot, from the activity and the CLI', async () => {
    await withWorker(async () => {
      const since = new Date(Date.now() - 1_000);
      const id = await probeSchedule({ spec: { every: '1s' }, holdMs: 60_000 });
      const quiet = await probeSchedule({ spec: { every: '1s' }, holdMs: 0, paused: true });
      await waitUntil(
        'overlap skips',
        () => describeSchedule(id),
        // Enough skipped slots that at least two lie before the report's settle margin even on a loaded machine.
        (d) => d.info.numActionsSkippedOverlap >= 6,
      );

      const { reportSkippedRuns } = createTemporalActivities(env.client, [id, quiet, 'never-registered']);
      const [busy, paused, missing] = await reportSkippedRuns({ since: since.toISOString() });
      assert.equal(busy.scheduleId, id);
      assert.ok(busy.skippedOverlap >= 2, JSON.stringify(busy));
      assert.equal(busy.missedCatchup, 0);
      assert.deepEqual(paused, { scheduleId: quiet, registered: true, skippedOverlap: 0, missedCatchup: 0 });
      assert.deepEqual(missing, {
        scheduleId: 'never-registered',
        registered: false,
        skippedOverlap: 0,
        missedCatchup: 0,
      });

      // Slot by slot: the first slot ran, and every later second up to the report's end was skipped.
      const d = await describeSchedule(id);
      const firstRun = d.info.recentActions[0].scheduledAt;
      const cliRun = await cli('skipped', id, '--since', since.toISOString(), '--json');
      assert.equal(cliRun.code, 0, cliRun.stderr);
      const report = JSON.parse(cliRun.stdout) as SkippedRunsReport;
      const expectedSlots: string[] = [];
      for (let t = firstRun.getTime() + 1_000; t <= Date.parse(report.to); t += 1_000)
        expectedSlots.push(new Date(t).toISOString());
      assert.deepEqual(
        report.skipped.map((s) => s.scheduledAt),
        expectedSlots,
      );
      assert.ok(report.skipped.every((s) => s.reason === 'overlap'));
      assert.equal(report.lastSkippedAt, expectedSlots.at(-1));
      assert.ok(report.skippedOverlap <= report.totals.skippedOverlap);

      const text = await cli('skipped', id, '--since', since.toISOString());
      assert.match(text.stdout, new RegExp(`^${id}  \\d+ skipped \\(overlap \\d+, missed catch-up 0\\)`));
      assert.match(text.stdout, /overlap: the previous run was still going/);
    });
  });

  it('refuses an unknown schedule with the list of known ones, and explains every command with --help', async () => {
    const unknown = await cli('trigger', 'no-such-schedule');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown schedule "no-such-schedule"; known: .*scrolluniversity-daily-checklist/);
    const badOverlap = await cli('trigger', 'wedsync-sunday-maintenance', '--overlap', 'sometimes');
    assert.equal(badOverlap.code, 2);
    assert.match(badOverlap.stderr, /--overlap: "sometimes"/);
    for (const command of ['list', 'register', 'pause', 'resume', 'trigger', 'backfill', 'skipped']) {
      const help = await cli(command, '--help');
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, new RegExp(`^Usage: runbook schedules ${command}`));
    }
    const main = await cli('--help');
    assert.match(main.stdout, /^Usage: runbook schedules \[options\] \[command\]/);
  });
});
