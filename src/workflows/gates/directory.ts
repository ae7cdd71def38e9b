/**
 * The roster and business hours, which live in the worker's configuration. Every workflow with a gate reads
 * them once at its start; reading configuration needs no round trip through the server, so a local activity.
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';

export const { loadDirectory } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });
