/** disasterRecoveryDrill's input, report and status query; the input and report are declared in the contracts layer. */
import { defineQuery } from '@temporalio/workflow';
import type { DrillStep } from '../../contracts/drills';

export {
  DRILL_MAX_AGE_DAYS,
  parseDrillInput,
  type DrillInput,
  type DrillReport,
  type DrillStep,
} from '../../contracts/drills';

export interface DrillStatus {
  drillId: string;
  namespace?: string;
  /** The step running now; absent once the drill has finished. */
  step?: string;
  steps: DrillStep[];
}

export const drillStatusQuery = defineQuery<DrillStatus>('status');
