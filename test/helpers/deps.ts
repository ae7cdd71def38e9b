/** Real clients for activity tests, pointed at the test stack, with endpoints overridden per test. */
import { loadConfig, type AppConfig } from '../../src/config';
import { createDeps, type OwnedDeps } from '../../src/workers/deps';

export function testConfig(overrides: NodeJS.ProcessEnv = {}): AppConfig {
  return loadConfig({ ...process.env, ...overrides });
}

export function testDeps(overrides: NodeJS.ProcessEnv = {}): Promise<OwnedDeps> {
  return createDeps(testConfig(overrides));
}
