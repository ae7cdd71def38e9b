import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCrisisManagerActivities } from '../../src/activities/crisis-manager';
import { ConfigError } from '../../src/config';
import { testConfig } from '../helpers/deps';
import { failure } from '../helpers/failures';
import { HEALTHY_BODY, HttpReceiver } from '../helpers/http-receiver';

describe('probeCrisisManager against a live endpoint', () => {
  const receiver = new HttpReceiver();
  const probeOf = (path: string) =>
    createCrisisManagerActivities({
      wedsync: { ...testConfig().wedsync, crisisManagerHealthUrl: receiver.url(path), apiToken: 'secret-token' },
      maintenance: testConfig().maintenance,
    }).probeCrisisManager();

  before(async () => {
    await receiver.start();
    receiver
      .route('/ok', { status: 200, body: HEALTHY_BODY })
      .route('/failed', { status: 200, body: { ...HEALTHY_BODY, status: 'degraded', crisis_manager: 'failed' } })
      .route('/slow-crises', { status: 200, body: { ...HEALTHY_BODY, response_time_ms: 10_001 } })
      .route('/at-limit', { status: 200, body: { ...HEALTHY_BODY, response_time_ms: 10_000 } })
      .route('/unhealthy-503', { status: 503, body: { ...HEALTHY_BODY, status: 'down' } })
      .route('/bare-503', { status: 503 })
      .route('/silent', { status: 200, body: { status: 'healthy', response_time_ms: 250 } })
      .route('/not-json', { status: 200, body: '<html>' })
      .route('/rambling', { status: 200, body: { ...HEALTHY_BODY, crisis_manager: 'lost '.repeat(200_000) } })
      .route('/denied', { status: 401, body: { error: 'no' } })
      .route(
        '/stalled',
        () => new Promise((resolve) => setTimeout(() => resolve({ status: 200, body: HEALTHY_BODY }), 10_500)),
      );
  });
  after(() => receiver.stop());

  it('finds an operational crisis manager healthy, sending the bearer token', async () => {
    const verdict = await probeOf('/ok');
    assert.deepEqual(
      { ...verdict, latencyMs: 0 },
      {
        url: receiver.url('/ok'),
        healthy: true,
        httpStatus: 200,
        latencyMs: 0,
        crisisManager: 'operational',
        responseTimeMs: 250,
      },
    );
    assert.equal(receiver.requests.at(-1)!.headers.authorization, 'Bearer secret-token');
    assert.equal((await probeOf('/at-limit')).healthy, true, '10 000 ms is not over the seed limit');
  });

  it('returns a failure with its reason for a failed crisis manager, a slow crisis response and a 5xx', async () => {
    const cases: [string, RegExp][] = [
      ['/failed', /^crisis_manager is "failed"$/],
      ['/slow-crises', /^response_time_ms 10001 is over 10000$/],
      ['/unhealthy-503', /answered 503$/],
      ['/bare-503', /answered 503$/],
      ['/silent', /did not report crisis_manager$/],
      ['/not-json', /without a JSON object$/],
    ];
    for (const [path, reason] of cases) {
      const verdict = await probeOf(path);
      assert.equal(verdict.healthy, false, path);
      assert.match(verdict.reason ?? '', reason, path);
    }
  });

  it('keeps what an endpoint says short, since the verdict goes into the watch history', async () => {
    const verdict = await probeOf('/rambling');
    assert.equal(verdict.healthy, false);
    assert.equal(verdict.crisisManager?.length, 100);
    assert.ok(JSON.stringify(verdict).length < 1_000);
  });

  it('counts an endpoint that cannot be reached as a failure', async () => {
    const verdict = await createCrisisManagerActivities({
      wedsync: { ...testConfig().wedsync, crisisManagerHealthUrl: 'http://127.0.0.1:9/ai/health' },
      maintenance: testConfig().maintenance,
    }).probeCrisisManager();
    assert.equal(verdict.healthy, false);
    assert.match(verdict.reason ?? '', /^GET http:\/\/127\.0\.0\.1:9\/ai\/health failed/);
  });

  it('gives up at 10 seconds, the seed bound, and calls the silence a failure', async () => {
    const started = Date.now();
    const verdict = await probeOf('/stalled');
    const took = Date.now() - started;
    assert.equal(verdict.healthy, false);
    assert.match(verdict.reason ?? '', /^no answer from .* within 10 s$/);
    assert.ok(took >= 10_000 && took < 10_500, `took ${took} ms`);
  });

  it('throws, without retry, only for configuration: bad credentials or a URL that is not there', async () => {
    const denied = await failure(probeOf('/denied'));
    assert.equal(denied.type, 'NotAuthorized');
    assert.equal(denied.nonRetryable, true);
    assert.match(denied.message, /WEDSYNC_CRISIS_MANAGER_HEALTH_URL/);
    const gone = await failure(probeOf('/gone'));
    assert.equal(gone.type, 'TargetNotFound');
    assert.equal(gone.nonRetryable, true);
  });
});

describe('WEDSYNC_CRISIS_MANAGER_HEALTH_URL', () => {
  it('defaults to the first of WEDSYNC_HEALTH_URLS, which the seed shows reporting crisis_manager', () => {
    const config = testConfig({
      WEDSYNC_HEALTH_URLS: 'http://a.example/ai/health,http://b.example/ai/health',
      WEDSYNC_CRISIS_MANAGER_HEALTH_URL: undefined,
    });
    assert.equal(config.wedsync.crisisManagerHealthUrl, 'http://a.example/ai/health');
  });

  it('is used when set, and refused by name when it is not an http(s) URL', () => {
    assert.equal(
      testConfig({ WEDSYNC_CRISIS_MANAGER_HEALTH_URL: 'http://crisis.example/health' }).wedsync.crisisManagerHealthUrl,
      'http://crisis.example/health',
    );
    assert.throws(
      () => testConfig({ WEDSYNC_CRISIS_MANAGER_HEALTH_URL: 'ftp://crisis.example/health' }),
      (err: unknown) =>
        err instanceof ConfigError && err.problems.some((p) => p.variable === 'WEDSYNC_CRISIS_MANAGER_HEALTH_URL'),
    );
  });
});
