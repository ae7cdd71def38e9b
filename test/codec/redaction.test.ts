/**
 * Secrets never reach history through an error message or an activity's result: the worker's activity interceptor
 * redacts in one place, and no recorded history under test/histories/ holds a configured secret or URL credential.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { LOCAL_CREDENTIALS, localStackSettings } from '../../scripts/lib/local-stack';
import { createActivities } from '../../src/activities';
import {
  configuredSecrets,
  redactingActivityInterceptor,
  redactText,
  type Secrets,
} from '../../src/activities/redaction';
import { OUTBOUND_URL_VARIABLES } from '../../src/config';
import type { OwnedDeps } from '../../src/workers/deps';
import { testConfig, testDeps } from '../helpers/deps';
import { HttpReceiver } from '../helpers/http-receiver';
import { CRISIS_PATHS, receiverEnv, startRunbookReceiver } from '../helpers/runbook-receiver';

const HISTORIES = join(__dirname, '..', '..', '..', 'test', 'histories');
const SLACK = 'https://hooks.slack.com/services/T0AAA/B0BBB/xoxbSecretPart123';

describe('redaction of secrets in what activities return and throw', () => {
  const config = testConfig({ SLACK_WEBHOOK_URL: SLACK, WEDSYNC_API_TOKEN: 'wedsync-api-token-77' });
  const secrets: Secrets = configuredSecrets(config);

  it('shows a secret URL as its origin and the setting that holds it', () => {
    const out = redactText(`POST ${SLACK} answered 500: upstream error`, secrets);
    assert.equal(out, 'POST https://hooks.slack.com/… (SLACK_WEBHOOK_URL) answered 500: upstream error');
  });

  it('drops URL passwords, query values, bearer tokens and every configured credential', () => {
    const text = [
      'connect to postgres://aiops:hunter2pw@db.internal:5432/aiops failed',
      'GET https://api.example.com/v1/status?token=abc123&page=2 answered 502',
      'sent Authorization: Bearer eyJhbGciOi.J9.sig',
      `the routing key ${config.notifications.pagerdutyRoutingKey} and ${config.s3.secretAccessKey} and wedsync-api-token-77`,
    ].join('\n');
    const out = redactText(text, secrets);
    for (const secret of [
      'hunter2pw',
      'abc123',
      'eyJhbGciOi',
      config.notifications.pagerdutyRoutingKey,
      config.s3.secretAccessKey,
      'wedsync-api-token-77',
    ]) {
      assert.ok(!out.includes(secret), `${secret} left in: ${out}`);
    }
    assert.match(out, /postgres:\/\/\*\*\*:\*\*\*@db\.internal:5432\/aiops/);
    assert.match(out, /api\.example\.com\/v1\/status\?token=\*\*\*&page=\*\*\*/);
  });

  describe('through the worker interceptor', () => {
    let receiver: HttpReceiver;
    let deps: OwnedDeps;
    let slackUrl: string;
    before(async () => {
      receiver = await startRunbookReceiver();
      receiver.route('/services/T0AAA/B0BBB/secret-part', { status: 500, body: { error: 'down' } });
      slackUrl = receiver.url('/services/T0AAA/B0BBB/secret-part');
      deps = await testDeps({ ...receiverEnv(receiver), SLACK_WEBHOOK_URL: slackUrl });
    });
    after(async () => {
      await deps?.close();
      await receiver?.stop();
    });

    it('redacts the Slack webhook URL from a failed post, message and stack alike', async () => {
      const env = new MockActivityEnvironment(undefined, {
        interceptors: [
          redactingActivityInterceptor(
            configuredSecrets(testConfig({ ...receiverEnv(receiver), SLACK_WEBHOOK_URL: slackUrl })),
          ),
        ],
      });
      const { notifySlack } = createActivities(deps);
      const err = await env
        .run(notifySlack, {
          audience: { people: ['oncall'] },
          message: 'drill',
          urgency: 'message' as const,
          dedupKey: 'k',
        })
        .then(
          () => assert.fail('the post succeeded'),
          (e: unknown) => e,
        );
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.match(err.message, /\(SLACK_WEBHOOK_URL\) answered 500/);
      assert.ok(!err.message.includes('secret-part') && !(err.stack ?? '').includes('secret-part'), err.stack);
      assert.ok(
        receiver.requests.some((r) => r.path === '/services/T0AAA/B0BBB/secret-part'),
        'the post was made',
      );
    });

    it('redacts a database URL quoted by an error from any system, and credentials in a result', async () => {
      const dbUrl = config.postgres.url;
      const password = decodeURIComponent(new URL(dbUrl).password);
      const env = new MockActivityEnvironment(undefined, { interceptors: [redactingActivityInterceptor(secrets)] });
      const failing = async () => {
        throw new Error(`could not reach ${dbUrl}`, { cause: new Error(`pool for ${dbUrl}`) });
      };
      const err = (await env.run(failing).catch((e: unknown) => e)) as Error;
      assert.ok(!err.message.includes(password) && !String((err.cause as Error).message).includes(password));
      const result = await env.run(async () => ({ detail: `GET ${SLACK} failed`, count: 3 }));
      assert.deepEqual(result, { detail: 'GET https://hooks.slack.com/… (SLACK_WEBHOOK_URL) failed', count: 3 });
    });
  });
});

describe('recorded histories', () => {
  /** Every text a reader of a history file sees, base64 payload data decoded. */
  const readable = (json: string) =>
    [
      json,
      ...[...json.matchAll(/"([A-Za-z0-9+/]{8,}={0,2})"/g)].map((m) => Buffer.from(m[1], 'base64').toString('utf8')),
    ].join('\n');
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));

  it('hold no configured secret or URL credential of the local stack', () => {
    const local = localStackSettings({});
    const forbidden = [
      LOCAL_CREDENTIALS.postgresPassword,
      LOCAL_CREDENTIALS.postgresAdminPassword,
      LOCAL_CREDENTIALS.s3SecretAccessKey,
      LOCAL_CREDENTIALS.pagerdutyRoutingKey,
      LOCAL_CREDENTIALS.alertReceiverToken,
      local.SLACK_WEBHOOK_URL,
      new URL(local.SLACK_WEBHOOK_URL).pathname,
      local.PAYLOAD_KEYS.slice(local.PAYLOAD_KEYS.indexOf(':') + 1),
      local.CODEC_SERVER_TOKEN,
      // Recordings point every outbound URL at a receiver path named after the setting (scripts/lib/local-receiver.ts).
      ...OUTBOUND_URL_VARIABLES.map((name) => `/${name.toLowerCase()}`),
      'hooks.slack.com',
    ].filter((s) => s.length >= 6);
    assert.ok(forbidden.includes('aiops-local-secret'), 'the scan knows the S3 secret');
    for (const file of files) {
      const text = readable(readFileSync(join(HISTORIES, file), 'utf8'));
      for (const secret of forbidden) assert.ok(!text.includes(secret), `${file} holds "${secret}"`);
      const withUser = /\b[a-z][a-z0-9+.-]*:\/\/[^/\s"'@]+:[^/\s"'@*]+@/i.exec(text);
      assert.equal(withUser, null, `${file} holds a URL with a password`);
    }
    assert.ok(files.length > 20);
  });

  it('are scanned in their payloads too: the scan sees a secret a payload would carry', () => {
    const payload = Buffer.from(JSON.stringify({ url: `${CRISIS_PATHS.slack}?x=aiops-local-secret` })).toString(
      'base64',
    );
    assert.ok(readable(`{"data": "${payload}"}`).includes('aiops-local-secret'));
  });
});
