/** Bundles the workflows once at build time, so workers start without bundling (part of `npm run build`). */
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { FAILURE_CONVERTER_PATH } from '../src/client/data-converter';
import { WORKFLOW_BUNDLE_PATH, WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../src/workers/worker';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
  writeFileSync(WORKFLOW_BUNDLE_PATH, code);
}

main().catch((err) => {
  process.stderr.write(`bundling workflows failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
