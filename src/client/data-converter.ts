/**
 * The one data converter of the project: the worker, the operator commands, the schedule registration, the alert
 * receiver and every other Temporal client use it, so whatever one seals the others can open.
 */
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../codec/aes-gcm-codec';
import type { AppConfig } from '../config';

/** Resolved at run time, for the worker's bundler and for clients alike (a module path, as the SDK requires). */
export const FAILURE_CONVERTER_PATH = require.resolve('../contracts/failure-converter');

export type ProjectDataConverter = DataConverter & { payloadCodecs: [AesGcmPayloadCodec] };

export function dataConverter(config: Pick<AppConfig, 'payloads'>): ProjectDataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(config.payloads)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}
