/** seed 002 Alert Levels as the WedSync remediations tell people: the level of a reading, and what each asks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALERT_LEVELS, alertLevelFor, describeAlertLevel } from '../../src/contracts/wedsync-alert-levels';

describe('WedSync alert levels (seed 002)', () => {
  it('grades a reading by how far it is worse than the KPI target', () => {
    // Response time, target 5 s: within 5 % no alert; 5-10 % information; 10-25 % warning; over 25 % critical.
    assert.equal(alertLevelFor('responseTimeMs', 5_200), undefined);
    assert.equal(alertLevelFor('responseTimeMs', 5_400), 1);
    assert.equal(alertLevelFor('responseTimeMs', 6_000), 2);
    assert.equal(alertLevelFor('responseTimeMs', 6_500), 3);
    // Accuracy, target 85 %, higher is better: 80 % is 5.9 % below it (information), 75 % 11.8 % (warning).
    assert.equal(alertLevelFor('accuracyRate', 0.9), undefined);
    assert.equal(alertLevelFor('accuracyRate', 0.8), 1);
    assert.equal(alertLevelFor('accuracyRate', 0.75), 2);
  });

  it("takes the seed's Level 3 examples and Level 4 whatever the figures", () => {
    assert.equal(alertLevelFor('errorRate', 0.021), 3);
    assert.equal(alertLevelFor('responseTimeMs', 15_001), 3);
    assert.equal(alertLevelFor('responseTimeMs', 1_000, true), 4);
  });

  it('logs Level 1, messages Level 2 with its 4 hours, pages Levels 3 and 4', () => {
    assert.deepEqual(
      ([1, 2, 3, 4] as const).map((l) => ALERT_LEVELS[l].urgency),
      ['log', 'message', 'page', 'page'],
    );
    assert.equal(describeAlertLevel(2), 'Level 2 warning, investigate within 4 hours');
    assert.equal(describeAlertLevel(4), 'Level 4 emergency');
  });
});
