/**
 * The setting of the ScrollUniversity remediation suites: the runbook suite (its own database, a time-skipping server
 * per test), a Kubernetes namespace of the suite's own standing in for seed 000's `production`, and a demo API of the
 * suite's own on a free port. The demo API's conditions are global to one instance, so each test file starting its
 * own instance is what keeps files running in parallel from switching each other's services.
 */
import { after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { startDemoApi, type DemoApi } from '../../scripts/lib/demo-api';
import { incidentResponse } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { incidentStatusQuery, incidentWorkflowId } from '../../src/workflows/incident/messages';
import {
  remediationStatusQuery,
  type RemediationInput,
  type RemediationResult,
} from '../../src/workflows/remediation/messages';
import { createDeployment, kubeconfigPath, playDeploymentController, testCluster, type TestCluster } from './kube';
import { pagerDutyEvents, slackTexts } from './runbook-receiver';
import { runbookSuite, type RunbookSuite } from './runbook-suite';
import { queryUntil, uniqueId } from './temporal';
import { waitUntil } from './wait';

export const GATEWAY = 'ai-gateway-service';
export const MODEL_CONFIGMAP = 'ai-gateway-config';

export interface ScrollUniversitySuite {
  suite: RunbookSuite;
  cluster(): TestCluster;
  /** `POST /_local/conditions` for the gateway on this suite's demo API. */
  setCondition(condition: string, sticky?: boolean): Promise<void>;
  /** The gateway Deployment and its model ConfigMap made anew, so no earlier test's restart stamp is on them. */
  freshGateway(): Promise<void>;
  start(workflow: Workflow, input: RemediationInput): ReturnType<RunbookSuite['env']['client']['workflow']['start']>;
  run(workflow: Workflow, input: RemediationInput): Promise<RemediationResult>;
  /** A fresh gateway switched into `condition`, then the workflow run while the test plays the deployment controller. */
  runAgainstRestarts(
    workflow: Workflow,
    input: RemediationInput,
    condition: string,
    sticky?: boolean,
  ): Promise<RemediationResult>;
  /** Starts the workflow on a fresh gateway in `condition` and decides its gate when it opens. */
  decideAtGate(
    workflow: Workflow,
    input: RemediationInput,
    condition: string,
    decision: { gate: string; decision: 'approve' | 'reject'; by: string; reason: string },
  ): Promise<RemediationResult>;
  /**
   * Opens an incident for the gateway at `severity`, takes it through its gates to the quick fix `choice`, and
   * returns the incident, the child the fix started (its type and result) and the incident's timeline once it
   * monitors. The incident is left running.
   */
  quickFixChild(
    choice: string,
    severity: 'P0' | 'P1' | 'P2' | 'P3',
  ): Promise<{
    incident: WorkflowHandle;
    childType?: string;
    childResult: RemediationResult;
    timeline: string[];
  }>;
  pages(): string[];
  messages(): string[];
  restartedAt(): Promise<string | undefined>;
}

export function scrollUniversitySuite(name: string): ScrollUniversitySuite {
  let cluster: TestCluster;
  let demo: DemoApi;
  const suite = runbookSuite(`aiops_test_${name.replace(/-/g, '_')}`, async (_receiver, databaseUrl) => {
    cluster = await testCluster(`aiops-${name}`);
    demo = await startDemoApi(databaseUrl, 0, join(tmpdir(), `demo-api-${name}-${randomUUID()}.log`), {
      kubeconfig: kubeconfigPath(),
      namespace: cluster.namespace,
    });
    return { SCROLLUNIVERSITY_API_URL: demo.url, SCROLLUNIVERSITY_NAMESPACE: cluster.namespace };
  });
  after(async () => {
    await demo?.close();
    await cluster?.destroy();
  });
  const su: ScrollUniversitySuite = {
    suite,
    cluster: () => cluster,
    async setCondition(condition, sticky = false) {
      const res = await fetch(`${demo.url}/_local/conditions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service: GATEWAY, condition, sticky }),
      });
      if (!res.ok) throw new Error(`setting ${condition}: ${res.status} ${await res.text()}`);
    },
    async freshGateway() {
      const namespace = cluster.namespace;
      await cluster.apps.deleteNamespacedDeployment({ name: GATEWAY, namespace }).catch(() => undefined);
      await cluster.core.deleteNamespacedConfigMap({ name: MODEL_CONFIGMAP, namespace }).catch(() => undefined);
      await createDeployment(cluster, GATEWAY, 2, 'scrolluniversity/ai-gateway-service:1.0.0');
      await cluster.core.createNamespacedConfigMap({
        namespace,
        body: {
          metadata: { name: MODEL_CONFIGMAP },
          data: { 'model.active': 'gpt-4o', 'model.fallback': 'claude-3-5-haiku' },
        },
      });
    },
    start: (workflow, input) =>
      suite.env.client.workflow.start(workflow, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId(name),
        args: [input],
      }),
    run: (workflow, input) =>
      suite.env.client.workflow.execute(workflow, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId(name),
        args: [input],
      }) as Promise<RemediationResult>,
    async runAgainstRestarts(workflow, input, condition, sticky = false) {
      await su.freshGateway();
      await su.setCondition(condition, sticky);
      const controller = playDeploymentController(cluster);
      try {
        return await su.run(workflow, input);
      } finally {
        await controller.stop();
      }
    },
    async decideAtGate(workflow, input, condition, decision) {
      await su.freshGateway();
      await su.setCondition(condition);
      const handle = await su.start(workflow, input);
      await queryUntil(handle, remediationStatusQuery, (st) => st.gates.some((g) => g.gate === decision.gate), 30_000);
      await handle.executeUpdate(decideUpdate, { args: [decision] });
      return handle.result() as Promise<RemediationResult>;
    },
    async quickFixChild(choice, severity) {
      const fingerprint = uniqueId(name);
      const incident = await suite.env.client.workflow.start(incidentResponse, {
        taskQueue: suite.taskQueue,
        workflowId: incidentWorkflowId(fingerprint),
        args: [{ severity, service: GATEWAY, summary: `quick fix ${choice}`, fingerprint }],
      });
      for (const [gate, extra] of [
        ['acknowledge', {}],
        ['root-cause', {}],
        ['quick-fix', { choice }],
      ] as const) {
        await queryUntil(incident, incidentStatusQuery, (st) => st.gates.some((g) => g.gate === gate), 30_000);
        await incident.executeUpdate(decideUpdate, {
          args: [{ gate, decision: 'approve', by: 'oncall', reason: `${gate} done`, ...extra }],
        });
      }
      const child = suite.env.client.workflow.getHandle(`${incident.workflowId}/quick-fix`);
      const described = await waitUntil('the quick fix child', () => child.describe().catch(() => undefined));
      // Awaiting the result is what lets the time-skipping server skip the child's settling time.
      const childResult = (await child.result()) as RemediationResult;
      const status = await queryUntil(incident, incidentStatusQuery, (st) => st.step === 'monitor', 60_000);
      return { incident, childType: described?.type, childResult, timeline: status.timeline.map((e) => e.event) };
    },
    pages: () =>
      pagerDutyEvents(suite.receiver)
        .filter((e) => e.event_action === 'trigger')
        .map((e) => e.payload?.summary ?? ''),
    messages: () => slackTexts(suite.receiver),
    async restartedAt() {
      const d = await cluster.apps.readNamespacedDeployment({ name: GATEWAY, namespace: cluster.namespace });
      return d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
    },
  };
  return su;
}
