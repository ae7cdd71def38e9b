import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { after, before, describe, it } from 'node:test';
import { createHttpActivities } from '../../src/activities/http';
import { createKubernetesActivities } from '../../src/activities/kubernetes';
import { createPostgresActivities } from '../../src/activities/postgres';
import { createRedisActivities } from '../../src/activities/redis';
import { createS3Activities } from '../../src/activities/s3';
import type { OwnedDeps } from '../../src/workers/deps';
import { testConfig, testDeps } from '../helpers/deps';
import { failure } from '../helpers/failures';
import { HEALTHY_BODY, HttpReceiver } from '../helpers/http-receiver';

describe('HTTP activities against a live endpoint', () => {
  const receiver = new HttpReceiver();
  let http: ReturnType<typeof createHttpActivities>;

  before(async () => {
    await receiver.start();
    receiver
      .route('/ok', { status: 200, body: HEALTHY_BODY })
      .route('/unhealthy', { status: 503, body: { status: 'down', crisis_manager: 'failed' } })
      .route('/bare-503', { status: 503 })
      .route('/denied', { status: 401, body: { error: 'no' } })
      .route('/not-json', { status: 200, body: '<html>' })
      .route('/errors', {
        status: 200,
        body: {
          errors: [
            { message: 'timeout', count: 12 },
            { type: 'oom', count: 2 },
          ],
        },
      });
    const wedsync = {
      ...testConfig().wedsync,
      healthUrls: ['/ok', '/unhealthy', '/bare-503', '/denied', '/not-json', '/gone'].map((p) => receiver.url(p)),
      errorsUrl: receiver.url('/errors'),
      apiToken: 'secret-token',
    };
    http = createHttpActivities({ wedsync, maintenance: testConfig().maintenance });
  });
  after(() => receiver.stop());

  it('reads the seed health response and sends the bearer token', async () => {
    const probe = await http.probeHealth(receiver.url('/ok'));
    assert.equal(probe.status, 'healthy');
    assert.equal(probe.accuracyRate, 0.92);
    assert.equal(probe.components.crisis_manager, 'operational');
    const last = receiver.requests.at(-1)!;
    assert.equal(last.headers.authorization, 'Bearer secret-token');
  });

  it('keeps an unhealthy 503 answer as a probe result', async () => {
    const probe = await http.probeHealth(receiver.url('/unhealthy'));
    assert.equal(probe.httpStatus, 503);
    assert.equal(probe.status, 'down');
    assert.equal(probe.components.crisis_manager, 'failed');
  });

  it('fails retryably on a bare 503 and on a refused connection', async () => {
    const bare = await failure(http.probeHealth(receiver.url('/bare-503')));
    assert.equal(bare.type, 'UpstreamUnavailable');
    assert.equal(bare.nonRetryable, false);
    const refused = await failure(
      createHttpActivities({
        wedsync: { ...testConfig().wedsync, healthUrls: ['http://127.0.0.1:9/ai/health'] },
        maintenance: testConfig().maintenance,
      }).probeHealth('http://127.0.0.1:9/ai/health'),
    );
    assert.equal(refused.type, 'UpstreamUnavailable');
  });

  it('fails without retry on 401, 404 and a non-JSON answer', async () => {
    assert.equal((await failure(http.probeHealth(receiver.url('/denied')))).type, 'NotAuthorized');
    const gone = await failure(http.probeHealth(receiver.url('/gone')));
    assert.equal(gone.type, 'TargetNotFound');
    assert.equal(gone.nonRetryable, true);
    assert.equal((await failure(http.probeHealth(receiver.url('/not-json')))).type, 'BadUpstreamResponse');
  });

  it('refuses to probe a URL that is not configured', async () => {
    const err = await failure(http.probeHealth('http://169.254.169.254/latest/meta-data'));
    assert.equal(err.type, 'InvalidInput');
    assert.match(err.message, /^url: /);
  });

  it('returns every recent error with its count', async () => {
    const { errors } = await http.fetchRecentErrors();
    assert.deepEqual(errors, [
      { message: 'timeout', count: 12 },
      { message: 'oom', count: 2 },
    ]);
  });
});

describe('dependency probes against the real stack', () => {
  let deps: OwnedDeps;
  before(async () => {
    deps = await testDeps();
  });
  after(() => deps.close());

  it('reads connection counts from PostgreSQL', async () => {
    const probe = await createPostgresActivities(deps).probeDatabase();
    assert.equal(probe.ok, true);
    assert.ok(Number(probe.detail.connections) >= 1);
    assert.ok(Number(probe.detail.maxConnections) > 0);
  });

  it('says the database is not ok once connections in use reach the alert share of max_connections', async () => {
    const limits = { connectionAlertRatio: 0.001, longQuerySeconds: 300 };
    const probe = await createPostgresActivities({
      ...deps,
      scrollUniversity: { ...deps.scrollUniversity, ...limits },
    }).probeDatabase();
    assert.equal(probe.ok, false);
    assert.ok(Number(probe.detail.usage) >= 0.001);
  });

  it('reads the hit rate from Redis INFO stats', async () => {
    await deps.redis.get('aiops:test:missing-key');
    const probe = await createRedisActivities(deps).probeCache();
    assert.equal(probe.ok, true);
    assert.ok(Number(probe.detail.misses) >= 1);
  });

  it('finds both configured buckets, and reports a missing one as not ok', async () => {
    assert.equal((await createS3Activities(deps).probeObjectStore()).ok, true);
    const missing = await createS3Activities({
      ...deps,
      buckets: { ...deps.buckets, backups: 'no-such-bucket-aiops' },
    }).probeObjectStore();
    assert.equal(missing.ok, false);
    assert.equal(missing.detail['no-such-bucket-aiops'], false);
  });

  it('fails retryably when PostgreSQL cannot be reached', async () => {
    const unreachable = await testDeps({ DATABASE_URL: 'postgres://aiops:x@127.0.0.1:9/aiops' });
    try {
      const err = await failure(new MockActivityEnvironment().run(createPostgresActivities(unreachable).probeDatabase));
      assert.equal(err.type, 'UpstreamUnavailable');
      assert.equal(err.nonRetryable, false);
    } finally {
      await unreachable.close();
    }
  });

  it('says so when no Kubernetes cluster is configured', async () => {
    const listing = await createKubernetesActivities({
      kubeConfig: null,
      aiNamespace: 'ai-services',
      targets: testConfig().kubernetes.targets,
    }).listPods();
    assert.equal(listing.configured, false);
  });

  it('rejects a namespace that is not a DNS label, naming the field', async () => {
    const err = await failure(
      createKubernetesActivities({
        kubeConfig: null,
        aiNamespace: 'ai-services',
        targets: testConfig().kubernetes.targets,
      }).listPods({ namespace: 'Bad_NS' }),
    );
    assert.equal(err.type, 'InvalidInput');
    assert.match(err.message, /^namespace: /);
  });
});
